import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sparseFile } from "../../../../helpers/files.js";
import { fatBitsFor, offlineMkfs } from "../../../../../src/nodes/level2/mkfs/offline.js";
import type { FilesystemPlan } from "../../../../../src/plan/types.js";

const UUID = "0b5e1c2a-8d0e-4f7a-9a51-1f2e3d4c5b6a";

function fs(type: string, opts: string[] = []): FilesystemPlan {
  return { name: `mkfs_${type}`, base: "p1", type, label: "lbl", opts, sizeBytes: 0 };
}

const input = (f: FilesystemPlan) => ({
  fs: f,
  image: "/img",
  offsetBytes: 1048576,
  sizeBytes: 256 * 1048576,
  startSector: 2048,
  uuid: UUID,
  populated: true,
  tempFile: "/tmp/x",
});

describe("fatBitsFor", () => {
  it("is the FAT size mkfs.vfat picks by itself for a device of that size", () => {
    const dir = mkdtempSync(join(tmpdir(), "blocksmith-fatbits-"));
    try {
      const file = join(dir, "fat");
      for (const kib of [1024, 8192, 8207, 8208, 16384, 262144, 524287, 524288, 600 * 1024]) {
        sparseFile(file, kib * 1024);
        execFileSync("mkfs.vfat", [file], { stdio: "ignore" });
        const version = execFileSync("blkid", ["-p", "-o", "value", "-s", "VERSION", file], {
          encoding: "utf8",
        });
        assert.equal(`FAT${fatBitsFor(kib * 1024)}`, version.trim(), `${kib} KiB`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("offlineMkfs", () => {
  it("makes ext4 in place at the offset, from the staging view, with the seed's hash seed", () => {
    const work = offlineMkfs({ ...input(fs("ext4", ["-i", "16384"])), hashSeed: UUID, epochSeconds: 5 });
    assert.equal(work.kind, "in-place");
    const [command] = work.kind === "in-place" ? work.commands : [];
    assert.deepEqual(command!.argv, [
      "mke2fs",
      "-t",
      "ext4",
      "-i",
      "16384",
      "-L",
      "lbl",
      "-U",
      UUID,
      "-E",
      `offset=1048576,assume_storage_prezeroed=1,hash_seed=${UUID}`,
      "-F",
      "-q",
      "-d",
      "{staging}",
      "/img",
      "262144k",
    ]);
    assert.deepEqual(command!.env, { E2FSPROGS_FAKE_TIME: "5" });
  });

  it("makes vfat with the FAT size of the partition, hidden sectors and the volume id, then mcopy", () => {
    const work = offlineMkfs(input(fs("vfat")));
    assert.equal(work.kind, "in-place");
    const commands = work.kind === "in-place" ? work.commands : [];
    assert.deepEqual(commands[0]!.argv, [
      "mkfs.vfat",
      "-F",
      "16",
      "-n",
      "lbl",
      "-i",
      "0b5e1c2a",
      "--offset",
      "2048",
      "-h",
      "2048",
      "/img",
      "262144",
    ]);
    assert.deepEqual(
      commands[1]!.argv.slice(-3),
      ["-i", "/img@@1048576", "{staging-entries}", "::/"].slice(-3),
    );
    // A FAT size given in the options wins.
    const given = offlineMkfs(input(fs("vfat", ["-F", "32"])));
    assert.ok(given.kind === "in-place" && !given.commands[0]!.argv.slice(0, 3).includes("16"));
  });

  it("makes xfs and btrfs in a file of their own, and swap as a header", () => {
    const xfs = offlineMkfs(input(fs("xfs")));
    assert.ok(xfs.kind === "temp-file" && xfs.file === "/tmp/x");
    const btrfs = offlineMkfs(input(fs("btrfs")));
    assert.ok(btrfs.kind === "temp-file" && btrfs.commands[0]!.argv.includes("--rootdir"));
    const swap = offlineMkfs(input(fs("swap")));
    assert.ok(swap.kind === "header" && swap.writes[0]!.offsetBytes === 1048576);
  });
});
