/**
 * Copies a file system made in its own sparse file into the image at an offset, reading only the data
 * ranges (SEEK_DATA/SEEK_HOLE, asked through `xfs_io -c "seek -a -r 0"`: Node has no lseek) so holes are
 * never read and stay holes in the image. Memory use is one buffer, whatever the size.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import type { Runner } from "../core/runner.js";
import type { LvPiece } from "../nodes/level1/lvm/offline.js";
import { clipToPiece, type OpenFiles } from "./placement.js";

const CHUNK_BYTES = 4 * 1024 * 1024;

/** Parses `xfs_io seek -a -r` output ("DATA 0", "HOLE 65536", …) into [start, end) data ranges. */
export function parseSeekMap(text: string, fileSizeBytes: number): [number, number][] {
  const marks: { kind: "DATA" | "HOLE"; offset: number }[] = [];
  for (const line of text.split("\n")) {
    const match = /^(DATA|HOLE)\s+(\d+)/.exec(line.trim());
    if (match) marks.push({ kind: match[1] as "DATA" | "HOLE", offset: Number(match[2]) });
  }
  const ranges: [number, number][] = [];
  for (const [index, mark] of marks.entries()) {
    if (mark.kind !== "DATA") continue;
    const end = marks[index + 1]?.offset ?? fileSizeBytes;
    if (end > mark.offset) ranges.push([mark.offset, Math.min(end, fileSizeBytes)]);
  }
  return ranges;
}

export async function dataRanges(run: Runner, file: string): Promise<[number, number][]> {
  const fd = openSync(file, "r");
  let size: number;
  try {
    size = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  const { stdout } = await run(["xfs_io", "-r", "-c", "seek -a -r 0", file], `find the data in ${file}`);
  return parseSeekMap(stdout, size);
}

/** Copies `ranges` of `source` to `targetFd` at `offsetBytes` + their own offset. Returns bytes copied. */
export function copyRanges(
  source: string,
  ranges: readonly [number, number][],
  targetFd: number,
  offsetBytes: number,
): number {
  const fd = openSync(source, "r");
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let copied = 0;
  try {
    for (const [start, end] of ranges) {
      for (let at = start; at < end;) {
        const length = readSync(fd, buffer, 0, Math.min(CHUNK_BYTES, end - at), at);
        if (length === 0) throw new Error(`${source} ended at ${at} inside a data range`);
        let written = 0;
        while (written < length)
          written += writeSync(targetFd, buffer, written, length - written, offsetBytes + at + written);
        at += length;
        copied += length;
      }
    }
  } finally {
    closeSync(fd);
  }
  return copied;
}

/** Copies `ranges` of `source` (offsets in the device) into the pieces that hold them. */
export function copyRangesToPieces(
  source: string,
  ranges: readonly [number, number][],
  files: OpenFiles,
  pieces: readonly LvPiece[],
): number {
  let copied = 0;
  for (const piece of pieces) {
    const inside = ranges.flatMap(([start, end]) => {
      const part = clipToPiece(piece, start, end);
      return part ? [part] : [];
    });
    copied += copyRanges(source, inside, files.fd(piece.file), piece.fileOffsetBytes - piece.lvOffsetBytes);
  }
  return copied;
}
