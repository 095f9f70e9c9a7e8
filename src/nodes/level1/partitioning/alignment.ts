import { LayoutProblem } from "../../../core/errors.js";

/**
 * The alignment in sectors. Differs from DIB: DIB computes `alignment // 512`, so an alignment below one
 * sector divides by zero and one that is not a whole number of sectors is silently rounded down.
 */
export function alignmentSectors(alignBytes: number, sectorSize: number): number {
  if (!Number.isSafeInteger(alignBytes) || alignBytes < sectorSize || alignBytes % sectorSize !== 0) {
    throw new LayoutProblem(
      `alignment of ${alignBytes} bytes is not a whole number of ${sectorSize}-byte sectors`,
      undefined,
      "align",
      'use a multiple of the sector size, e.g. "1MiB" (the default)',
    );
  }
  return alignBytes / sectorSize;
}
