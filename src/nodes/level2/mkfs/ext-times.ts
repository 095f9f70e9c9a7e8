/**
 * Reproducible ext2/3/4 from `mke2fs -d`: mke2fs copies every file's ctime and atime from the source
 * tree, and those say when the tree was checked out or read, not what it holds. With SOURCE_DATE_EPOCH
 * blocksmith sets both to the epoch on every inode in use (mtimes, which are the tree's content, are
 * kept; e2fsprogs' E2FSPROGS_FAKE_TIME already covers crtime and the superblock times).
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Runner } from "../../../core/runner.js";

/** Inode numbers in use, from `dumpe2fs` (its per-group "Free inodes:" lists), reserved ones left out. */
export function usedInodes(dumpe2fsText: string): number[] {
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(dumpe2fsText);
    if (!match) throw new Error(`dumpe2fs output has no "${name}"`);
    return Number(match[1]);
  };
  const inodeCount = field("Inode count");
  const firstInode = field("First inode");
  const free = new Uint8Array(inodeCount + 1);
  for (const match of dumpe2fsText.matchAll(/^\s+Free inodes: (.*)$/gm)) {
    for (const part of match[1]!.split(",")) {
      const range = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
      if (!range) continue;
      const from = Number(range[1]);
      const to = Number(range[2] ?? range[1]);
      for (let inode = from; inode <= to && inode <= inodeCount; inode += 1) free[inode] = 1;
    }
  }
  const used: number[] = [];
  for (let inode = 1; inode <= inodeCount; inode += 1)
    if (!free[inode] && (inode === 2 || inode >= firstInode)) used.push(inode);
  return used;
}

export async function normalizeExtTimes(
  run: Runner,
  image: string,
  offsetBytes: number,
  epochSeconds: number,
): Promise<number> {
  const device = `${image}?offset=${offsetBytes}`;
  const { stdout } = await run(["dumpe2fs", device], `list the inodes in use at offset ${offsetBytes}`);
  const inodes = usedInodes(stdout);
  const dir = mkdtempSync(join(tmpdir(), "blocksmith-ext-times-"));
  try {
    const script = join(dir, "times.debugfs");
    // Written in slices: one string for 100,000 inodes would be the largest thing blocksmith holds.
    const fd = openSync(script, "w");
    try {
      for (let start = 0; start < inodes.length; start += 4096)
        writeSync(
          fd,
          inodes
            .slice(start, start + 4096)
            .map((inode) => `sif <${inode}> atime ${epochSeconds}\nsif <${inode}> ctime ${epochSeconds}\n`)
            .join(""),
        );
    } finally {
      closeSync(fd);
    }
    // debugfs echoes every command on stdout: nothing worth keeping.
    await run(["debugfs", "-w", "-f", script, device], `set ctime and atime of ${inodes.length} inodes`, {
      env: { E2FSPROGS_FAKE_TIME: String(epochSeconds) },
      discardStdout: true,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return inodes.length;
}
