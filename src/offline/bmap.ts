/**
 * A bmap file (bmaptool's block map, format 2.0) for the finished raw image: which 4 KiB blocks hold
 * data, each range with its SHA-256, so `bmaptool copy` writes (and verifies) only those. The file's
 * own checksum is the SHA-256 of the file with that field set to 64 zeros (bmaptool's rule).
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";

export const BMAP_BLOCK_BYTES = 4096;
const CHUNK_BYTES = 4 * 1024 * 1024;

/** Data ranges in bytes → inclusive block ranges, merged where they touch. */
export function blockRanges(ranges: readonly [number, number][], imageSizeBytes: number): [number, number][] {
  const blocks: [number, number][] = [];
  for (const [start, end] of ranges) {
    const first = Math.floor(start / BMAP_BLOCK_BYTES);
    const last = Math.ceil(Math.min(end, imageSizeBytes) / BMAP_BLOCK_BYTES) - 1;
    if (last < first) continue;
    const previous = blocks.at(-1);
    if (previous && first <= previous[1] + 1) previous[1] = Math.max(previous[1], last);
    else blocks.push([first, last]);
  }
  return blocks;
}

export function bmapXml(
  imageSizeBytes: number,
  ranges: readonly { first: number; last: number; sha256: string }[],
): string {
  const mapped = ranges.reduce((sum, range) => sum + range.last - range.first + 1, 0);
  const render = (fileChecksum: string) =>
    [
      `<?xml version="1.0" ?>`,
      `<!-- Block map of an image made by blocksmith: mapped blocks and their SHA-256. -->`,
      `<bmap version="2.0">`,
      `    <ImageSize> ${imageSizeBytes} </ImageSize>`,
      `    <BlockSize> ${BMAP_BLOCK_BYTES} </BlockSize>`,
      `    <BlocksCount> ${Math.ceil(imageSizeBytes / BMAP_BLOCK_BYTES)} </BlocksCount>`,
      `    <MappedBlocksCount> ${mapped} </MappedBlocksCount>`,
      `    <ChecksumType> sha256 </ChecksumType>`,
      `    <BmapFileChecksum> ${fileChecksum} </BmapFileChecksum>`,
      `    <BlockMap>`,
      ...ranges.map(
        (range) =>
          `        <Range chksum="${range.sha256}"> ${range.first === range.last ? range.first : `${range.first}-${range.last}`} </Range>`,
      ),
      `    </BlockMap>`,
      `</bmap>`,
      ``,
    ].join("\n");
  const checksum = createHash("sha256")
    .update(render("0".repeat(64)))
    .digest("hex");
  return render(checksum);
}

/** Reads each block range of `image` (only those) and returns it with its SHA-256. */
export function checksumRanges(
  image: string,
  blocks: readonly [number, number][],
  imageSizeBytes: number,
): { first: number; last: number; sha256: string }[] {
  const fd = openSync(image, "r");
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  try {
    return blocks.map(([first, last]) => {
      const hash = createHash("sha256");
      const end = Math.min((last + 1) * BMAP_BLOCK_BYTES, imageSizeBytes);
      for (let at = first * BMAP_BLOCK_BYTES; at < end;) {
        const length = readSync(fd, buffer, 0, Math.min(CHUNK_BYTES, end - at), at);
        if (length === 0) break;
        hash.update(buffer.subarray(0, length));
        at += length;
      }
      return { first, last, sha256: hash.digest("hex") };
    });
  } finally {
    closeSync(fd);
  }
}
