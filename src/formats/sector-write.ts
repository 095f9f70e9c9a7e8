/**
 * What on-disk format writers return: bytes and where they go. Writers are pure; `applySectorWrites`
 * puts the bytes into a file or device. Only the sectors that hold metadata are listed, so an image
 * file stays sparse.
 */
export interface SectorWrite {
  /** Byte offset from the start of the disk (a multiple of the sector size). */
  offsetBytes: number;
  data: Buffer;
}
