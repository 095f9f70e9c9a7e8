/**
 * What the offline-build benchmark runs besides blocksmith: finding tools, installing missing ones
 * with apt (the benchmark compares against peers, so it brings them), and running a command with its
 * peak memory measured. Every command goes through the project's runner: argv arrays, never a shell.
 */
import { closeSync, fsyncSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { requireTools, runCommand, ToolMissingError, type CommandResult } from "../src/core/runner.js";

/** Debian package of each tool the benchmark needs (Debian 12 names). */
export const PACKAGE_OF: Readonly<Record<string, string>> = {
  sfdisk: "fdisk",
  "mkfs.vfat": "dosfstools",
  "fsck.vfat": "dosfstools",
  mcopy: "mtools",
  mdir: "mtools",
  mke2fs: "e2fsprogs",
  e2fsck: "e2fsprogs",
  dumpe2fs: "e2fsprogs",
  dd: "coreutils",
  cp: "coreutils",
  time: "time",
  genimage: "genimage",
  "systemd-repart": "systemd",
};

export async function missingTools(tools: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of tools) {
    try {
      await requireTools([tool]);
    } catch (error) {
      if (!(error instanceof ToolMissingError)) throw error;
      missing.push(tool);
    }
  }
  return missing;
}

/**
 * Installs the packages of missing tools; returns the tools still missing afterwards (not root, no apt,
 * no network) so their contenders can be skipped with a note instead of ending the run.
 */
export async function installMissing(
  tools: readonly string[],
  log: (line: string) => void = console.log,
): Promise<string[]> {
  const missing = await missingTools(tools);
  if (missing.length === 0) return [];
  const packages = [...new Set(missing.map((tool) => PACKAGE_OF[tool] ?? tool))];
  if (process.getuid?.() !== 0) {
    log(`missing ${missing.join(", ")}: run apt-get install ${packages.join(" ")} as root`);
    return missing;
  }
  log(`installing ${packages.join(" ")} (for ${missing.join(", ")})`);
  const install = ["apt-get", "install", "-y", "--no-install-recommends", ...packages];
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  try {
    await runCommand(install, { purpose: "install benchmark peers", env });
  } catch {
    // A fresh container has no package lists yet; fetch them once and try again.
    try {
      await runCommand(["apt-get", "update"], { purpose: "update package lists", env });
      await runCommand(install, { purpose: "install benchmark peers", env });
    } catch (error) {
      log(`apt-get install failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return missingTools(missing);
}

export interface Measured extends CommandResult {
  /** Largest resident set of the command or any descendant it waited for, in KiB (GNU time %M). */
  peakRssKiB: number;
}

/**
 * Runs argv under GNU time. %M is ru_maxrss of the reaped children: the largest single process of the
 * tree, which is what "peak RSS" means for a pipeline of tools that run one after another.
 */
export async function runMeasured(
  argv: readonly string[],
  purpose: string,
  scratchDir: string,
  env: Record<string, string> = {},
): Promise<Measured> {
  const rssFile = join(scratchDir, "peak-rss.txt");
  rmSync(rssFile, { force: true });
  const result = await runCommand(["/usr/bin/time", "-f", "%M", "-o", rssFile, ...argv], { purpose, env });
  return { ...result, peakRssKiB: Number.parseInt(readFileSync(rssFile, "utf8").trim(), 10) };
}

/** fsync: a build is not done until its bytes are on disk, whoever wrote them. */
export function syncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
