/**
 * An xfs "protofile" (mkfs.xfs -p, xfsprogs 6.1: see mkfs.xfs(8) "-p protofile") describing a directory
 * tree, so offline builds fill xfs without mounting it. Each entry is "name mode uid gid [extra]", mode
 * being type (- d l b c p), set-uid (u or -), set-gid (g or -) and three octal digits; directories list
 * their entries and end with "$". The format has no hard links (each name gets its own copy), no times
 * (xfs stamps the build time) and no whitespace in names.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { PopulateError } from "../../../core/errors.js";

function modeToken(stats: Stats): string {
  const type = stats.isDirectory()
    ? "d"
    : stats.isSymbolicLink()
      ? "l"
      : stats.isBlockDevice()
        ? "b"
        : stats.isCharacterDevice()
          ? "c"
          : stats.isFIFO()
            ? "p"
            : "-";
  const setuid = stats.mode & 0o4000 ? "u" : "-";
  const setgid = stats.mode & 0o2000 ? "g" : "-";
  return `${type}${setuid}${setgid}${(stats.mode & 0o777).toString(8).padStart(3, "0")}`;
}

function extra(path: string, stats: Stats, host: (path: string) => string): string {
  if (stats.isFile()) return ` ${path}`;
  if (stats.isSymbolicLink()) return ` ${readlinkSync(host(path))}`;
  if (stats.isBlockDevice() || stats.isCharacterDevice())
    return ` ${Math.floor(stats.rdev / 256) & 0xfff} ${(stats.rdev & 0xff) | ((stats.rdev >> 12) & 0xfff00)}`;
  return "";
}

export interface ProtoOptions {
  /** Where the tree is read from, when that differs from where mkfs.xfs will see it (another namespace). */
  host?: (path: string) => string;
  /** The ids mkfs.xfs should store for the ids blocksmith sees. */
  mapIds?: (uid: number, gid: number) => [number, number];
}

export function xfsProto(root: string, options: ProtoOptions = {}): string {
  const host = options.host ?? ((path: string) => path);
  const ids = (stats: Stats) =>
    (options.mapIds ?? ((uid, gid) => [uid, gid]))(stats.uid, stats.gid).join(" ");
  const lines = ["/dev/null", "0 0"];
  const rootStats = lstatSync(host(root));
  lines.push(`${modeToken(rootStats)} ${ids(rootStats)}`);
  const walk = (dir: string, depth: number) => {
    for (const name of readdirSync(host(dir)).sort()) {
      const path = join(dir, name);
      if (/\s/.test(name) || /\s/.test(path))
        throw new PopulateError(`${path}: xfs protofiles cannot hold names with spaces`);
      const stats = lstatSync(host(path));
      if (stats.isSocket()) continue; // sockets are made by programs at run time, never stored
      const target = extra(path, stats, host);
      if (stats.isSymbolicLink() && /\s/.test(target.slice(1)))
        throw new PopulateError(`${path}: xfs protofiles cannot hold a symlink target with spaces`);
      lines.push(`${"  ".repeat(depth)}${name} ${modeToken(stats)} ${ids(stats)}${target}`);
      if (stats.isDirectory()) {
        walk(path, depth + 1);
        lines.push(`${"  ".repeat(depth + 1)}$`);
      }
    }
  };
  walk(root, 1);
  lines.push("$", "");
  return lines.join("\n");
}
