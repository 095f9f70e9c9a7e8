import { closeSync, ftruncateSync, openSync } from "node:fs";

/** Creates (or empties) `path` and makes it a sparse file of `sizeBytes`. */
export function sparseFile(path: string, sizeBytes: number): string {
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, sizeBytes);
  } finally {
    closeSync(fd);
  }
  return path;
}
