import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { applySectorWrites } from "../../../src/formats/apply.js";
import { sparseFile, tempDir } from "./table-tools.js";

describe("applySectorWrites", () => {
  const dir = tempDir("blocksmith-apply-");
  after(dir.remove);

  it("writes each buffer at its offset and leaves everything else as it was", () => {
    const file = sparseFile(join(dir.path, "img"), 8192);
    const fd = openSync(file, "r+");
    try {
      applySectorWrites(fd, [
        { offsetBytes: 512, data: Buffer.alloc(512, 0xab) },
        { offsetBytes: 4096, data: Buffer.from("tail") },
      ]);
    } finally {
      closeSync(fd);
    }
    const bytes = readFileSync(file);
    assert.equal(bytes.length, 8192);
    assert.ok(bytes.subarray(0, 512).every((b) => b === 0));
    assert.ok(bytes.subarray(512, 1024).every((b) => b === 0xab));
    assert.equal(bytes.subarray(4096, 4100).toString(), "tail");
    assert.ok(bytes.subarray(4100).every((b) => b === 0));
  });

  it("keeps a large image sparse", () => {
    const sizeBytes = 1024 ** 3;
    const file = sparseFile(join(dir.path, "big"), sizeBytes, [
      { offsetBytes: 0, data: Buffer.alloc(512, 1) },
      { offsetBytes: sizeBytes - 512, data: Buffer.alloc(512, 2) },
    ]);
    const stat = statSync(file);
    assert.equal(stat.size, sizeBytes);
    // Two sectors written: a few file-system blocks allocated, not a gigabyte.
    assert.ok(stat.blocks * 512 < 1024 * 1024, `allocated ${stat.blocks * 512} bytes`);
  });
});
