/**
 * The view of the source tree a file system is made from, built in a private mount namespace (see
 * namespace.ts) so the user's tree is never written: a read-only bind mount of the subtree, empty
 * directories mounted over the mount points of nested file systems, and an overlay (upper layer on a
 * tmpfs) on the few directories that gain entries (a missing mount point, /etc/fstab). mkfs tools then
 * read the view as a plain directory (`mke2fs -d`, `mkfs.btrfs --rootdir`, `mcopy`).
 */
import { chmodSync, lstatSync, mkdirSync, utimesSync, writeFileSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { Runner } from "../core/runner.js";
import { isBelow, type GeneratedFile } from "./populate.js";

export interface StagingSpec {
  /** An empty directory the view is mounted on. */
  staging: string;
  /** An empty directory for the tmpfs that holds overlay layers, empty directories and new files. */
  scratch: string;
  source: string | null;
  mountPointDirs: string[];
  files: GeneratedFile[];
  /** SOURCE_DATE_EPOCH: the time given to what blocksmith creates; now when unset. */
  epochSeconds?: number;
}

function statOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** The deepest existing directory on `relative`'s path, and the components below it that are missing. */
export function splitExisting(
  source: string,
  relative: string,
  exists: (path: string) => boolean,
): { existing: string; missing: string[] } {
  const parts = relative.split("/").filter(Boolean);
  let depth = 0;
  while (depth < parts.length && exists(join(source, ...parts.slice(0, depth + 1)))) depth += 1;
  return { existing: parts.slice(0, depth).join("/"), missing: parts.slice(depth) };
}

/** Where the view is built: commands run inside, files are reached from outside through `host()`. */
export interface ViewSpace {
  run: Runner;
  host(path: string): string;
}

export async function buildStaging(spec: StagingSpec, space: ViewSpace): Promise<void> {
  const { staging, scratch, source } = spec;
  const run = space.run;
  const at = (path: string) => space.host(path);
  const epoch = spec.epochSeconds ?? Math.floor(Date.now() / 1000);
  // Times are set last, deepest first: creating an entry changes its directory's modification time.
  const created: string[] = [];
  await run(["mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", scratch], "scratch space for the view");
  if (source === null) {
    // No tree: the file system gets only its mount points and generated files.
    await run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", staging], "empty view");
    for (const dir of spec.mountPointDirs) makeDirs(at(staging), dir, created);
    for (const file of spec.files) writeGenerated(at(staging), file, created);
    for (const path of [...created.reverse(), at(staging)]) utimesSync(path, epoch, epoch);
    return;
  }
  await run(["mount", "--bind", source, staging], `view of ${source}`);
  // Read-only: nothing blocksmith does below can reach the user's tree.
  await run(["mount", "-o", "remount,bind,ro", staging], `make the view of ${source} read-only`);

  const isDir = (path: string) => statOrNull(path)?.isDirectory() === true;
  const needs = [
    ...spec.mountPointDirs.map((path) => ({ path, kind: "dir" as const })),
    ...spec.files.map((file) => ({ path: file.path, kind: "file" as const, file })),
  ];
  // Directories that gain entries get an overlay; an overlay on a directory covers everything below.
  const overlays: string[] = [];
  const touched = new Set<string>();
  for (const need of needs) {
    const parent = need.kind === "file" ? need.path.split("/").slice(0, -1).join("/") : need.path;
    const { existing, missing } = splitExisting(source, parent, isDir);
    const lacksFile = need.kind === "file" && statOrNull(join(source, need.path)) === null;
    if (missing.length === 0 && !lacksFile) continue;
    touched.add(existing);
    if (overlays.some((dir) => dir === existing || isBelow(`/${existing}`, `/${dir}`))) continue;
    for (let i = overlays.length - 1; i >= 0; i -= 1)
      if (isBelow(`/${overlays[i]!}`, `/${existing}`)) overlays.splice(i, 1);
    overlays.push(existing);
  }
  for (const [index, dir] of overlays.entries()) {
    const lower = join(source, dir);
    const upper = join(scratch, `upper${index}`);
    const work = join(scratch, `work${index}`);
    mkdirSync(at(upper));
    mkdirSync(at(work));
    copyDirAttributes(lower, at(upper));
    await run(
      [
        "mount",
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${lower},upperdir=${upper},workdir=${work},userxattr`,
        join(staging, dir),
      ],
      `writable layer over ${dir || "/"}`,
    );
  }
  for (const dir of spec.mountPointDirs) {
    const sourceDir = join(source, dir);
    if (isDir(sourceDir)) {
      // Its contents belong to the nested file system: show an empty directory with the same attributes.
      const empty = join(scratch, `empty-${dir.replaceAll("/", "_")}`);
      mkdirSync(at(empty));
      copyDirAttributes(sourceDir, at(empty));
      await run(["mount", "--bind", empty, join(staging, dir)], `empty mount point /${dir}`);
    } else {
      makeDirs(at(staging), dir, created);
    }
  }
  for (const file of spec.files) {
    const existing = statOrNull(join(source, file.path));
    if (existing === null) {
      writeGenerated(at(staging), file, created);
      continue;
    }
    if (!existing.isFile()) throw new Error(`${join(source, file.path)} exists and is not a regular file`);
    const replacement = join(scratch, `file-${file.path.replaceAll("/", "_")}`);
    writeFileSync(at(replacement), file.content, { mode: file.mode });
    chmodSync(at(replacement), file.mode);
    utimesSync(at(replacement), epoch, epoch);
    await run(["mount", "--bind", replacement, join(staging, file.path)], `generated /${file.path}`);
  }
  for (const path of created.reverse()) utimesSync(path, epoch, epoch);
  // Adding entries changed the times of the existing directories they went into: restore the source's.
  for (const dir of touched) copyDirAttributes(join(source, dir), at(join(staging, dir)));
}

function copyDirAttributes(from: string, to: string): void {
  const stats = lstatSync(from);
  chmodSync(to, stats.mode & 0o7777);
  utimesSync(to, stats.atime, stats.mtime);
}

function makeDirs(root: string, relative: string, created: string[]): void {
  const parts = relative.split("/").filter(Boolean);
  for (let depth = 1; depth <= parts.length; depth += 1) {
    const path = join(root, ...parts.slice(0, depth));
    if (statOrNull(path) !== null) continue;
    mkdirSync(path, { mode: 0o755 });
    chmodSync(path, 0o755);
    created.push(path);
  }
}

function writeGenerated(root: string, file: GeneratedFile, created: string[]): void {
  const parent = file.path.split("/").slice(0, -1).join("/");
  if (parent) makeDirs(root, parent, created);
  const path = join(root, file.path);
  writeFileSync(path, file.content, { mode: file.mode });
  chmodSync(path, file.mode);
  created.push(path);
}
