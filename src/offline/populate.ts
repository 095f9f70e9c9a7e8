/**
 * Which files go into which file system (pure). `--root DIR` is the future root file system; every
 * mounted file system gets the subtree of its mount point, minus the subtrees of the file systems
 * mounted below it, whose mount points stay as empty directories. /etc/fstab (and /etc/crypttab when
 * there is LUKS) goes into the file system mounted at "/".
 */
import { join, posix } from "node:path";
import { crypttabText } from "../nodes/level1/luks/crypttab.js";
import { fstabText } from "../nodes/level4/fstab/plan.js";
import type { Plan } from "../plan/types.js";

export interface GeneratedFile {
  /** Relative to the file system's root, without a leading slash ("etc/fstab"). */
  path: string;
  content: string;
  mode: number;
}

export interface Population {
  filesystem: string;
  mountPoint: string;
  /** The subtree of --root this file system is made from; null when there is no --root. */
  source: string | null;
  /** Mount points of the file systems mounted directly below this one: kept, but empty. */
  mountPointDirs: string[];
  files: GeneratedFile[];
}

/** True when `inner` is strictly below `outer` ("/var/log" below "/var" and "/", "/variable" not). */
export function isBelow(inner: string, outer: string): boolean {
  if (inner === outer) return false;
  return outer === "/" ? inner.startsWith("/") : inner.startsWith(`${outer}/`);
}

/** One entry per mounted file system, in mount order. */
export function planPopulation(
  plan: Plan,
  rootDir: string | null,
  luksUuids: ReadonlyMap<string, string> = new Map(),
): Population[] {
  const mountPoints = plan.mounts.map((mount) => mount.mountPoint);
  return plan.mounts.map((mount) => {
    const point = mount.mountPoint;
    const below = mountPoints.filter((other) => isBelow(other, point));
    // Only the nearest ones: a mount point below another nested one belongs to that file system.
    const direct = below.filter((other) => !below.some((middle) => isBelow(other, middle)));
    const files: GeneratedFile[] = [];
    if (point === "/" && plan.fstab.length > 0)
      files.push({ path: "etc/fstab", content: fstabText(plan.fstab), mode: 0o644 });
    if (point === "/" && plan.encrypted.length > 0)
      files.push({
        path: "etc/crypttab",
        content: crypttabText(plan.encrypted, (volume) => luksUuids.get(volume)!),
        mode: 0o644,
      });
    return {
      filesystem: mount.base,
      mountPoint: point,
      source: rootDir === null ? null : point === "/" ? rootDir : join(rootDir, point),
      mountPointDirs: direct.map((other) => posix.relative(point, other)).sort(),
      files,
    };
  });
}
