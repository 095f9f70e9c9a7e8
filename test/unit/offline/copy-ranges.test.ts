import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sparseFile } from "../../helpers/files.js";
import { copyRanges, dataRanges, parseSeekMap } from "../../../src/offline/copy-ranges.js";
import { runCommand } from "../../../src/core/runner.js";

describe("parseSeekMap", () => {
  it("turns xfs_io's DATA/HOLE marks into data ranges, the last one ending at the file's end", () => {
    const text = "Whence\tResult\nDATA\t0\nHOLE\t65536\nDATA\t1048576\nHOLE\t1114112\nDATA\t2097152\n";
    assert.deepEqual(parseSeekMap(text, 3 * 1048576), [
      [0, 65536],
      [1048576, 1114112],
      [2097152, 3 * 1048576],
    ]);
    assert.deepEqual(parseSeekMap("Whence\tResult\nHOLE\t0\n", 4096), []);
  });
});

describe("copyRanges", () => {
  it("copies the data of a sparse file to an offset, leaving holes as holes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blocksmith-copy-"));
    try {
      const source = join(dir, "fs");
      sparseFile(source, 64 * 1024 * 1024);
      let fd = openSync(source, "r+");
      const marks = [0, 5 * 1024 * 1024, 40 * 1024 * 1024 + 4096];
      for (const at of marks) writeSync(fd, Buffer.alloc(8192, at % 251), 0, 8192, at);
      closeSync(fd);
      const run = (argv: readonly string[], purpose: string) => runCommand(argv, { purpose });
      const ranges = await dataRanges(run, source);
      assert.ok(ranges.length >= 3 && ranges.length <= 4, JSON.stringify(ranges));
      const target = join(dir, "image");
      sparseFile(target, 128 * 1024 * 1024);
      fd = openSync(target, "r+");
      const offset = 1024 * 1024;
      const copied = copyRanges(source, ranges, fd, offset);
      closeSync(fd);
      assert.ok(copied < 1024 * 1024, `copied ${copied} bytes of a 64 MiB file with 24 KiB of data`);
      const whole = readFileSync(target);
      for (const at of marks)
        assert.deepEqual(whole.subarray(offset + at, offset + at + 8192), Buffer.alloc(8192, at % 251));
      // The copy is identical to the source over its whole length, holes included.
      assert.deepEqual(whole.subarray(offset, offset + 64 * 1024 * 1024), readFileSync(source));
      assert.ok(statSync(target).blocks * 512 < 2 * 1024 * 1024, "the image stays sparse");
      execFileSync("true");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
