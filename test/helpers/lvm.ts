/**
 * lvm2's own tools as oracles for offline images, on loop devices of the PV partitions, with activation
 * off: this kernel has no device-mapper, and lvm reads and writes metadata without it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { extractBytes, readSfdisk, run } from "./devices.js";

/**
 * lvm confined to `devices`: no devices file, a filter that admits only them, activation off (lvm then
 * never asks for device-mapper) and no backups in the host's /etc/lvm.
 */
export function lvm(devices: readonly string[], argv: string[]): string {
  return lvmOutput(devices, argv).stdout;
}

export function lvmOutput(devices: readonly string[], argv: string[]): { stdout: string; stderr: string } {
  const accept = devices.map((device) => `"a|^${device}$|"`).join(",");
  const config =
    `devices { use_devicesfile=0 scan_lvs=0 filter=[${accept},"r|.*|"] } ` +
    'global { activation=0 system_id_source="none" } backup { backup=0 archive=0 }';
  const result = spawnSync(argv[0]!, [...argv.slice(1), "--config", config], { encoding: "utf8" });
  assert.equal(result.status, 0, `${argv.join(" ")}: ${result.stderr}`);
  return result;
}

/**
 * Loop devices over the partitions of `image` named `partitions` (PVs, in VG order), read-only unless
 * `writable`, released after `use` whatever happens.
 */
export function withPvLoops<T>(
  image: string,
  partitions: readonly string[],
  writable: boolean,
  use: (devices: string[]) => T,
): T {
  const table = readSfdisk(image);
  const devices: string[] = [];
  try {
    for (const name of partitions) {
      const partition = table.partitions.find((p) => p.name === name)!;
      const args = ["--find", "--show", ...(writable ? [] : ["--read-only"])];
      args.push(
        "--offset",
        String(partition.start * 512),
        "--sizelimit",
        String(partition.size * 512),
        image,
      );
      devices.push(run(["losetup", ...args]).trim());
    }
    return use(devices);
  } finally {
    for (const device of devices) spawnSync("losetup", ["--detach", device]);
  }
}

export interface LvmView {
  pvs: { pv: number; pe_start: string; pv_pe_count: string; dev_size: string }[];
  segments: { lv: string; lvStart: number; pv: number; pvStart: number; extents: number }[];
  extentSize: string;
}

/** What lvm reports of the VG, with loop device names replaced by the PV's index (they differ per run). */
export function lvmView(devices: string[], vg: string): LvmView {
  const report = (argv: string[]) =>
    (
      JSON.parse(lvm(devices, [...argv, "--reportformat", "json", "--units", "b", "--nosuffix"])) as {
        report: Record<string, Record<string, string>[]>[];
      }
    ).report[0]!;
  const pvs = report(["pvs", "-o", "pv_name,pe_start,pv_pe_count,dev_size"]).pv!.map((pv) => ({
    pv: devices.indexOf(pv.pv_name!),
    pe_start: pv.pe_start!,
    pv_pe_count: pv.pv_pe_count!,
    dev_size: pv.dev_size!,
  }));
  const segments = report(["lvs", "-o", "lv_name,seg_start_pe,seg_pe_ranges", vg]).lv!.map((seg) => {
    const [, device, first, last] = /^(\S+):(\d+)-(\d+)$/.exec(seg.seg_pe_ranges!.trim())!;
    return {
      lv: seg.lv_name!,
      lvStart: Number(seg.seg_start_pe),
      pv: devices.indexOf(device!),
      pvStart: Number(first),
      extents: Number(last) - Number(first) + 1,
    };
  });
  const extentSize = report(["vgs", "-o", "vg_extent_size", vg]).vg![0]!.vg_extent_size!;
  const sortKey = (s: { lv: string; lvStart: number }) => `${s.lv}:${String(s.lvStart).padStart(8, "0")}`;
  return {
    pvs: pvs.sort((a, b) => a.pv - b.pv),
    segments: segments.sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    extentSize,
  };
}

/** One LV's bytes as a file, put together with dd from where lvm says its extents are. */
export function extractLv(
  image: string,
  partitions: readonly string[],
  view: LvmView,
  lv: string,
  dest: string,
): string {
  const table = readSfdisk(image);
  const extentBytes = Number(view.extentSize);
  rmSync(dest, { force: true });
  for (const segment of view.segments.filter((s) => s.lv === lv)) {
    const partition = table.partitions.find((p) => p.name === partitions[segment.pv])!;
    const from =
      partition.start * 512 + Number(view.pvs[segment.pv]!.pe_start) + segment.pvStart * extentBytes;
    extractBytes(image, from, segment.extents * extentBytes, dest, segment.lvStart * extentBytes);
  }
  return dest;
}
