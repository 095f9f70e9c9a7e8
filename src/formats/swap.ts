/**
 * The Linux swap signature (version 1, "SWAPSPACE2") as util-linux `mkswap` writes it, so offline
 * builds need no tool and no device for swap. Layout (include/linux/swap.h, `union swap_header`):
 * 1024 bytes of boot bits, then version, last_page, nr_badpages (u32 each, little-endian on x86),
 * a 16-byte UUID and a 16-byte label; the magic fills the last 10 bytes of the first page.
 */
import { parseUuid } from "./identifiers.js";
import type { SectorWrite } from "./sector-write.js";

/** mkswap uses the running kernel's page size; every x86-64 and most arm64 kernels use 4 KiB. */
export const SWAP_PAGE_BYTES = 4096;
/** 16 bytes on disk, NUL-terminated: mkswap keeps at most 15. */
const LABEL_BYTES = 15;

export function writeSwapHeader(
  sizeBytes: number,
  { uuid, label, offsetBytes = 0 }: { uuid: string; label: string; offsetBytes?: number },
): SectorWrite[] {
  const pages = Math.floor(sizeBytes / SWAP_PAGE_BYTES);
  if (pages < 10) throw new Error(`swap needs at least 10 pages of ${SWAP_PAGE_BYTES} bytes`);
  // As mkswap does (with a warning): a longer label is cut to 15 bytes. DIB allows 16 characters.
  const labelBytes = Buffer.from(label, "utf8").subarray(0, LABEL_BYTES);
  const page = Buffer.alloc(SWAP_PAGE_BYTES);
  page.writeUInt32LE(1, 1024); // version
  page.writeUInt32LE(pages - 1, 1028); // last_page
  page.writeUInt32LE(0, 1032); // nr_badpages
  parseUuid(uuid).copy(page, 1036);
  labelBytes.copy(page, 1052);
  page.write("SWAPSPACE2", SWAP_PAGE_BYTES - 10, "latin1");
  return [{ offsetBytes, data: page }];
}
