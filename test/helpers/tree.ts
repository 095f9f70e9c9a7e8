/**
 * A small source tree with what an image's file systems must keep (modes, setuid, symlinks, hard
 * links, nested directories, a few MiB of data, an existing /etc/fstab to be replaced), and a listing
 * of any directory tree to compare a file system's contents with its source.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export const TREE_MTIME = 1_600_000_000; // 2020-09-13: earlier than the tests' SOURCE_DATE_EPOCH

function file(root: string, path: string, content: string | Buffer, mode = 0o644): void {
  const full = join(root, path);
  mkdirSync(join(full, ".."), { recursive: true });
  writeFileSync(full, content);
  chmodSync(full, mode);
}

/** Deterministic bytes (an LCG), so a test never depends on random data. */
export function pseudoRandom(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

export function makeTree(root: string): void {
  file(root, "etc/hostname", "blocksmith-test\n");
  file(root, "etc/fstab", "# replaced by the build\n");
  file(root, "etc/secret", "only root\n", 0o600);
  file(root, "usr/bin/tool", "#!/bin/sh\necho tool\n", 0o755);
  file(root, "usr/bin/setuid-tool", "suid\n", 0o4755);
  symlinkSync("tool", join(root, "usr/bin/link-to-tool"));
  symlinkSync("/does/not/exist", join(root, "usr/bin/dangling"));
  linkSync(join(root, "usr/bin/tool"), join(root, "usr/bin/hard-link-to-tool"));
  file(root, "usr/share/data.bin", pseudoRandom(3 * 1024 * 1024 + 17, 7));
  mkdirSync(join(root, "root"), { mode: 0o700 });
  chmodSync(join(root, "root"), 0o700);
  file(root, "root/.profile", "umask 022\n");
  file(root, "var/lib/state", "var data\n");
  file(root, "var/log/messages", "log\n");
  file(root, "boot/vmlinuz", pseudoRandom(64 * 1024, 3));
  file(root, "boot/efi/EFI/BOOT/BOOTX64.EFI", pseudoRandom(100 * 1024, 5));
  file(root, "boot/efi/EFI/debian/grub.cfg", "set timeout=1\n");
  file(root, "srv/www/index.html", "<p>hello</p>\n");
  file(root, "data/db/table.dat", pseudoRandom(200 * 1024, 11), 0o640);
  symlinkSync("db/table.dat", join(root, "data/current"));
  mkdirSync(join(root, "empty-dir"));
  setTimes(root);
}

function setTimes(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) setTimes(path);
    if (!entry.isSymbolicLink()) utimesSync(path, TREE_MTIME, TREE_MTIME);
  }
  utimesSync(dir, TREE_MTIME, TREE_MTIME);
}

export interface Entry {
  type: "dir" | "file" | "symlink" | "other";
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** Files: sha256 of the content; symlinks: the target. */
  content: string;
  /** Files with more than one link: the other paths with the same inode, in this listing. */
  links: string[];
}

/** Every entry below `root`, by path relative to it; `skip` lists relative paths not to descend into. */
export function listTree(root: string, skip: readonly string[] = []): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const inodes = new Map<number, string[]>();
  const walk = (relative: string) => {
    for (const name of readdirSync(join(root, relative)).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      if (path === "lost+found") continue;
      const stats = lstatSync(join(root, path));
      const type = stats.isDirectory()
        ? "dir"
        : stats.isFile()
          ? "file"
          : stats.isSymbolicLink()
            ? "symlink"
            : "other";
      entries.set(path, {
        type,
        mode: stats.mode & 0o7777,
        uid: stats.uid,
        gid: stats.gid,
        mtime: Math.floor(stats.mtimeMs / 1000),
        content:
          type === "file"
            ? createHash("sha256")
                .update(readFileSync(join(root, path)))
                .digest("hex")
            : type === "symlink"
              ? readlinkSync(join(root, path))
              : "",
        links: [],
      });
      if (type === "file" && stats.nlink > 1) inodes.set(stats.ino, [...(inodes.get(stats.ino) ?? []), path]);
      if (type === "dir" && !skip.includes(path)) walk(path);
    }
  };
  walk("");
  for (const paths of inodes.values())
    for (const path of paths) entries.get(path)!.links = paths.filter((other) => other !== path);
  return entries;
}

/** A listing as a file system stores it with every entry owned by `owner` (--owner root maps the builder's files to 0). */
export function ownedBy(listing: Map<string, Entry>, owner: number): Map<string, Entry> {
  return new Map([...listing].map(([path, entry]) => [path, { ...entry, uid: owner, gid: owner }]));
}
