import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sparseFile } from "../../../../helpers/files.js";
import { normalizeExtTimes, usedInodes } from "../../../../../src/nodes/level2/mkfs/ext-times.js";
import { runCommand, type Runner } from "../../../../../src/core/runner.js";

describe("ext times", () => {
  it("finds exactly the inodes mke2fs -d used, and sets their ctime and atime to the epoch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blocksmith-ext-times-"));
    try {
      const tree = join(dir, "tree");
      for (let d = 0; d < 3; d += 1) {
        mkdirSync(join(tree, `d${d}`), { recursive: true });
        for (let f = 0; f < 5; f += 1) writeFileSync(join(tree, `d${d}`, `f${f}`), `${d}${f}`);
      }
      const image = join(dir, "img");
      sparseFile(image, 64 * 1024 * 1024);
      execFileSync("mke2fs", ["-q", "-F", "-t", "ext4", "-E", "offset=1048576", "-d", tree, image, "32M"]);
      const device = `${image}?offset=1048576`;
      const inodes = usedInodes(
        execFileSync("dumpe2fs", [device], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
      );
      // root (2), lost+found (11), 3 directories and 15 files.
      assert.equal(inodes.length, 2 + 3 + 15);
      assert.deepEqual(inodes.slice(0, 2), [2, 11]);
      const run: Runner = (argv, purpose, extra) => runCommand(argv, { purpose, ...extra });
      assert.equal(await normalizeExtTimes(run, image, 1048576, 1_700_000_000), 20);
      const stat = execFileSync("debugfs", ["-R", "stat /d1/f3", device], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      assert.match(stat, /ctime: 0x6553f100/);
      assert.match(stat, /atime: 0x6553f100/);
      // e2fsck also counts the 10 reserved inodes: 29 = 10 + lost+found + 18.
      const check = execFileSync("e2fsck", ["-fn", device], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      assert.match(check, /29\/\d+ files/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
