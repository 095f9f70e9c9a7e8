/**
 * Helpers for tests that use real loop devices. They touch only what the test created: loop devices
 * backed by files under the test's own directory, and mounts below it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

export function run(argv: string[], input?: string): string {
  const [file, ...args] = argv;
  return execFileSync(file!, args, { encoding: "utf8", ...(input !== undefined ? { input } : {}) });
}

/**
 * `sizeBytes` of `image` from `offsetBytes` into `dest` at `destOffsetBytes` (dd, so no tool of ours is
 * involved): a partition as a file of its own, or one piece of an LV.
 */
export function extractBytes(
  image: string,
  offsetBytes: number,
  sizeBytes: number,
  dest: string,
  destOffsetBytes = 0,
): string {
  run([
    "dd",
    `if=${image}`,
    `of=${dest}`,
    "bs=1M",
    "iflag=skip_bytes,count_bytes",
    "oflag=seek_bytes",
    `skip=${offsetBytes}`,
    `seek=${destOffsetBytes}`,
    `count=${sizeBytes}`,
    "conv=sparse,notrunc",
    "status=none",
  ]);
  // A piece that ends in zeros was skipped, not written: the file must still reach the piece's end.
  if (statSync(dest).size < destOffsetBytes + sizeBytes) truncateSync(dest, destOffsetBytes + sizeBytes);
  return dest;
}

/**
 * Mounts `image` (or the range of it at `range`) read-only through a loop device of the kernel's own, in
 * a new directory under `parent`, runs `check` on it and unmounts, whatever `check` does.
 */
export function withMountedReadOnly<T>(
  image: string,
  parent: string,
  check: (dir: string) => T,
  range?: { offsetBytes: number; sizeBytes: number },
): T {
  const dir = mkdtempSync(join(parent, "mnt-"));
  const options = range ? `ro,loop,offset=${range.offsetBytes},sizelimit=${range.sizeBytes}` : "ro,loop";
  run(["mount", "-o", options, image, dir]);
  try {
    return check(dir);
  } finally {
    run(["umount", dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What `sfdisk -J` prints of a partition table (the fields the suites read). */
export interface SfdiskTable {
  label: string;
  id: string;
  device: string;
  unit: string;
  firstlba?: number;
  lastlba?: number;
  sectorsize?: number;
  partitions: {
    node: string;
    start: number;
    size: number;
    type: string;
    uuid?: string;
    name?: string;
    bootable?: boolean;
  }[];
}

/** The partition table of an image or device as sfdisk reads it: an oracle we did not write. */
export function readSfdisk(image: string): SfdiskTable {
  return (JSON.parse(run(["sfdisk", "-J", image])) as { partitiontable: SfdiskTable }).partitiontable;
}

/** Why root/loop tests cannot run here, or undefined when they can. */
export function deviceTestsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not running as root";
  if (!existsSync("/dev/loop-control")) return "no /dev/loop-control";
  const probe = spawnSync("losetup", ["--find"], { encoding: "utf8" });
  if (probe.status !== 0) return `losetup --find failed: ${probe.stderr.trim()}`;
  return undefined;
}

/** Skip reason for a suite; under CI=true the suite must run, so the reason becomes a failure instead. */
export function skipUnlessDevices(): string | false {
  const reason = deviceTestsUnavailable();
  if (reason === undefined) return false;
  if (process.env.CI === "true") throw new Error(`CI=true but device tests cannot run: ${reason}`);
  console.log(`# device-mode suite skipped: ${reason}`);
  return reason;
}

export function loopDevicesUnder(dir: string): { name: string; backFile: string }[] {
  const text = run(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"]);
  if (text.trim() === "") return [];
  const list = JSON.parse(text) as { loopdevices?: { name: string; "back-file": string | null }[] };
  return (list.loopdevices ?? [])
    .map((loop) => ({ name: loop.name, backFile: (loop["back-file"] ?? "").replace(/ \(deleted\)$/, "") }))
    .filter((loop) => loop.backFile.startsWith(`${dir}/`));
}

export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .map((target) => target.replace(/\\040/g, " "))
    .filter((target) => target === dir || target.startsWith(`${dir}/`));
}

/** Releases whatever a test left under `dir` (deepest mounts first), so a failing test leaks nothing. */
export function releaseEverythingUnder(dir: string): void {
  for (const target of mountsUnder(dir).sort((a, b) => b.length - a.length))
    spawnSync("umount", ["--lazy", target]);
  for (const loop of loopDevicesUnder(dir)) spawnSync("losetup", ["--detach", loop.name]);
}

/**
 * The common start of a device suite: the skip verdict and a work directory of its own, which is
 * released (mounts, loop devices) and removed after the suite, whatever happened in it.
 */
export function deviceSuite(prefix: string): { skip: string | false; work: string } {
  const skip = skipUnlessDevices();
  const work = skip ? "" : mkdtempSync(join(tmpdir(), prefix));
  after(() => {
    if (!work) return;
    releaseEverythingUnder(work);
    rmSync(work, { recursive: true, force: true });
  });
  return { skip, work };
}

/** Why LVM/LUKS/md tests cannot run here (no device-mapper or md in the kernel), or undefined. */
export function stackTestsUnavailable(): string | undefined {
  const devices = deviceTestsUnavailable();
  if (devices !== undefined) return devices;
  if (!existsSync("/dev/mapper/control")) return "no device-mapper (/dev/mapper/control); run it in the VM";
  // md is a module in Debian's kernels; it loads on first use, but /proc/mdstat only appears once loaded.
  spawnSync("modprobe", ["md_mod"]);
  if (!existsSync("/proc/mdstat")) return "no md driver (/proc/mdstat); run it in the VM";
  return undefined;
}

/** deviceSuite for stacked devices (LVM, LUKS, md): same skip rules, a stricter probe. */
export function stackSuite(prefix: string): { skip: string | false; work: string } {
  const reason = stackTestsUnavailable();
  if (reason !== undefined && process.env.CI === "true")
    throw new Error(`CI=true but the LVM/LUKS/md suite cannot run: ${reason}`);
  if (reason !== undefined) {
    console.log(`# stacked-device suite skipped: ${reason}`);
    return { skip: reason, work: "" };
  }
  return deviceSuite(prefix);
}
