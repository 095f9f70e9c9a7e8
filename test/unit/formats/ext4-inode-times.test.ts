import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileByteAccess } from "../../../src/formats/byte-access.js";
import { sparseFile } from "../../helpers/files.js";
import { setExtInodeTimes } from "../../../src/formats/ext4-inode-times.js";

const EPOCH = 1_700_000_000;
const quiet = { stdio: ["ignore", "pipe", "ignore"] as ["ignore", "pipe", "ignore"] };

/** The oracle: debugfs itself setting atime and ctime of every inode in use (dumpe2fs lists them). */
function withDebugfs(image: string): number {
  const text = execFileSync("dumpe2fs", [image], { encoding: "utf8", ...quiet });
  const count = Number(/^Inode count:\s+(\d+)/m.exec(text)![1]);
  const first = Number(/^First inode:\s+(\d+)/m.exec(text)![1]);
  const free = new Set<number>();
  for (const match of text.matchAll(/^\s+Free inodes: (.*)$/gm))
    for (const part of match[1]!.split(",")) {
      const range = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
      if (range) for (let i = Number(range[1]); i <= Number(range[2] ?? range[1]); i += 1) free.add(i);
    }
  const used = [];
  for (let inode = 1; inode <= count; inode += 1)
    if (!free.has(inode) && (inode === 2 || inode >= first)) used.push(inode);
  const script = `${image}.debugfs`;
  writeFileSync(script, used.map((i) => `sif <${i}> atime ${EPOCH}\nsif <${i}> ctime ${EPOCH}\n`).join(""));
  execFileSync("debugfs", ["-w", "-f", script, image], {
    ...quiet,
    env: { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH) },
  });
  return used.length;
}

describe("setExtInodeTimes", () => {
  for (const [type, extra] of [
    ["ext4", []],
    ["ext4", ["-I", "128"]],
    ["ext3", []],
    ["ext2", []],
    ["ext4", ["-O", "metadata_csum_seed"]],
  ] as const) {
    it(`writes the same inodes as debugfs sif does: ${type} ${extra.join(" ")}`, () => {
      const dir = mkdtempSync(join(tmpdir(), "blocksmith-ext-inode-times-"));
      try {
        const tree = join(dir, "tree");
        for (let d = 0; d < 4; d += 1) {
          mkdirSync(join(tree, `d${d}`), { recursive: true });
          for (let f = 0; f < 30; f += 1) writeFileSync(join(tree, `d${d}`, `f${f}`), `${d}/${f}`);
        }
        const ours = sparseFile(join(dir, "ours.img"), 64 * 1024 * 1024);
        execFileSync("mke2fs", ["-q", "-F", "-t", type, ...extra, "-d", tree, ours], {
          ...quiet,
          env: { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH - 1000) },
        });
        const theirs = join(dir, "theirs.img");
        copyFileSync(ours, theirs);
        const fd = openSync(ours, "r+");
        let changed: number;
        try {
          changed = setExtInodeTimes(fileByteAccess(fd), EPOCH);
        } finally {
          closeSync(fd);
        }
        assert.equal(changed, withDebugfs(theirs));
        assert.ok(changed >= 4 + 120 + 1);
        execFileSync("e2fsck", ["-fn", ours], quiet);
        // Byte for byte what debugfs wrote, but for the superblock, which debugfs stamps when it closes.
        const a = readFileSync(ours);
        const b = readFileSync(theirs);
        a.fill(0, 1024, 2048);
        b.fill(0, 1024, 2048);
        assert.ok(a.equals(b), "the inode tables differ from debugfs's");
        const stat = execFileSync("debugfs", ["-R", "stat /d2/f7", ours], { encoding: "utf8", ...quiet });
        assert.match(stat, /ctime: 0x6553f100/);
        assert.match(stat, /atime: 0x6553f100/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
