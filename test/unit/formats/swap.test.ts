import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sparseFile } from "../../helpers/files.js";
import { SWAP_PAGE_BYTES, writeSwapHeader } from "../../../src/formats/swap.js";

function firstPage(file: string): Buffer {
  const fd = openSync(file, "r");
  try {
    const page = Buffer.alloc(SWAP_PAGE_BYTES);
    readSync(fd, page, 0, SWAP_PAGE_BYTES, 0);
    return page;
  } finally {
    closeSync(fd);
  }
}

describe("swap header", () => {
  it("is byte for byte what util-linux mkswap writes", () => {
    const dir = mkdtempSync(join(tmpdir(), "blocksmith-swap-"));
    try {
      for (const [sizeBytes, label] of [
        [8 * 1024 * 1024, "swap"],
        [64 * 1024 * 1024 + 4096 * 3, "fifteen-chars-a"],
        [40 * 1024, "x"],
        [1024 * 1024, "sixteen-chars-ab"], // mkswap cuts it to 15 bytes
      ] as const) {
        const file = join(dir, "swap");
        rmSync(file, { force: true });
        sparseFile(file, sizeBytes);
        const uuid = "0b5e1c2a-8d0e-4f7a-9a51-1f2e3d4c5b6a";
        execFileSync("mkswap", ["-L", label, "-U", uuid, file], { stdio: "ignore" });
        const [write] = writeSwapHeader(sizeBytes, { uuid, label });
        assert.equal(write!.offsetBytes, 0);
        assert.deepEqual(write!.data, firstPage(file), `size ${sizeBytes}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("goes at the offset asked for and refuses fewer than 10 pages, as mkswap does", () => {
    const [write] = writeSwapHeader(1024 * 1024, {
      uuid: "0b5e1c2a-8d0e-4f7a-9a51-1f2e3d4c5b6a",
      label: "s",
      offsetBytes: 4096,
    });
    assert.equal(write!.offsetBytes, 4096);
    assert.throws(
      () => writeSwapHeader(4096 * 9, { uuid: "0b5e1c2a-8d0e-4f7a-9a51-1f2e3d4c5b6a", label: "s" }),
      /10 pages/,
    );
  });
});
