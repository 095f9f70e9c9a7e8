import { writeSync } from "node:fs";
import type { SectorWrite } from "./sector-write.js";

/**
 * Writes each buffer at its offset with positional writes: nothing is read and nothing between the
 * writes is touched, so a sparse image file stays sparse.
 */
export function applySectorWrites(fd: number, writes: readonly SectorWrite[]): void {
  for (const write of writes) {
    let done = 0;
    // writeSync may write less than asked (rare for files, possible for devices); finish the rest.
    while (done < write.data.length) {
      done += writeSync(fd, write.data, done, write.data.length - done, write.offsetBytes + done);
    }
  }
}
