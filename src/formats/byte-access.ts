/** Random access to the bytes of one file system inside an image, for the in-place format editors. */
import { readSync, writeSync } from "node:fs";

/** Offsets are relative to the file system's first byte. */
export interface ByteAccess {
  read(offsetBytes: number, length: number): Buffer;
  write(offsetBytes: number, data: Buffer): void;
}

/** Positional reads and writes of an open file, shifted by `offsetBytes` (where the file system starts). */
export function fileByteAccess(fd: number, offsetBytes = 0): ByteAccess {
  return {
    read: (offset, length) => {
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, offsetBytes + offset);
      return buffer;
    },
    write: (offset, data) => {
      let done = 0;
      while (done < data.length)
        done += writeSync(fd, data, done, data.length - done, offsetBytes + offset + done);
    },
  };
}
