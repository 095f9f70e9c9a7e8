/** Human view of a plan: a table per disk and VG, a proportional bar of each disk, mounts and fstab. */
import { formatBytes } from "../core/size.js";
import { formatFstabLine } from "../nodes/level4/fstab/plan.js";
import type { DiskPlan, Plan } from "../plan/types.js";

const BAR_WIDTH = 72;

export function renderPlan(plan: Plan): string {
  const out: string[] = [];
  const stacks = consumerStacks(plan);
  for (const disk of plan.disks) {
    out.push(renderDiskHeader(disk));
    if (disk.partitions.length > 0) {
      out.push(
        table(
          ["#", "name", "role", "start", "end", "size", "type", "flags", "holds"],
          disk.partitions.map((p) => [
            String(p.number),
            p.name,
            p.role,
            String(p.startSector),
            String(p.startSector + p.sizeSectors - 1),
            formatBytes(p.sizeBytes),
            p.typeCode === p.type ? p.type : `${p.typeCode} (${p.type})`,
            p.flags.join(","),
            p.role === "extended" ? "" : (stacks.get(p.name) ?? ""),
          ]),
        ),
      );
    } else if (stacks.has(disk.name)) {
      out.push(`  holds: ${stacks.get(disk.name)}`);
    }
    out.push(renderBar(disk), "");
  }
  for (const vg of plan.volumeGroups) {
    out.push(
      `volume group ${vg.name}: ${formatBytes(vg.sizeBytes)} = ${vg.extentCount} × ${formatBytes(vg.extentSizeBytes)} extents, ${vg.freeExtents} free; PVs ${vg.physicalVolumes.map((pv) => `${pv.name} on ${pv.base}`).join(", ")}`,
    );
    const lvs = plan.logicalVolumes.filter((lv) => lv.volumeGroup === vg.name);
    out.push(
      table(
        ["lv", "type", "extents", "size", "holds"],
        lvs.map((lv) => [
          lv.name,
          lv.lvType,
          String(lv.extents),
          formatBytes(lv.sizeBytes),
          stacks.get(lv.name) ?? "",
        ]),
      ),
      "",
    );
  }
  if (plan.encrypted.length > 0) {
    out.push("encrypted volumes:");
    out.push(
      table(
        ["name", "on", "type", "cipher", "payload offset", "size", "holds"],
        plan.encrypted.map((e) => [
          e.name,
          e.base,
          e.luksType,
          `${e.cipher}/${e.keySizeBits}`,
          formatBytes(e.payloadOffsetBytes),
          formatBytes(e.sizeBytes),
          stacks.get(e.name) ?? "",
        ]),
      ),
      "",
    );
  }
  if (plan.raids.length > 0) {
    out.push("RAID arrays:");
    out.push(
      table(
        ["name", "level", "members", "metadata", "size", "holds"],
        plan.raids.map((r) => [
          r.name,
          String(r.level),
          r.bases.join(","),
          r.metadata,
          formatBytes(r.sizeBytes),
          stacks.get(r.name) ?? "",
        ]),
      ),
      "",
    );
  }
  if (plan.mounts.length > 0) {
    out.push("mount order:");
    for (const [index, mount] of plan.mounts.entries()) {
      const fs = plan.filesystems.find((f) => f.name === mount.base);
      out.push(
        `  ${index + 1}. ${mount.mountPoint.padEnd(20)} ${fs ? `${fs.type} "${fs.label}" on ${fs.base}` : mount.base}`,
      );
    }
    out.push("");
  }
  if (plan.fstab.length > 0) {
    out.push("fstab:");
    for (const entry of plan.fstab) out.push(`  ${formatFstabLine(entry)}`);
    out.push("");
  }
  out.push(`${plan.steps.length} steps (see --json for their argv)`);
  return `${out.join("\n")}\n`;
}

function renderDiskHeader(disk: DiskPlan): string {
  const label = disk.label
    ? `${disk.label.toUpperCase()}, align ${formatBytes(disk.alignBytes)}`
    : "no partition table";
  return `${disk.name} (${disk.kind}) ${disk.path}: ${formatBytes(disk.sizeBytes)} = ${disk.sizeBytes / disk.sectorSize} × ${disk.sectorSize}-byte sectors, ${label}`;
}

/** What is built on each block device, as one line: "luks cryptroot → ext4 "root" → /". */
function consumerStacks(plan: Plan): Map<string, string> {
  const on = new Map<string, string>();
  const mountOf = new Map(plan.mounts.map((m) => [m.base, m.mountPoint]));
  for (const fs of plan.filesystems)
    on.set(fs.base, `${fs.type} "${fs.label}"${mountOf.has(fs.name) ? ` → ${mountOf.get(fs.name)}` : ""}`);
  const describe = (name: string, seen = new Set<string>()): string => {
    if (seen.has(name)) return "";
    seen.add(name);
    if (on.has(name)) return on.get(name)!;
    const luks = plan.encrypted.find((e) => e.base === name);
    if (luks) return `${luks.luksType} ${luks.name} → ${describe(luks.name, seen)}`;
    const raid = plan.raids.find((r) => r.bases.includes(name));
    if (raid) return `raid${raid.level} ${raid.name} → ${describe(raid.name, seen)}`;
    for (const vg of plan.volumeGroups) {
      const pv = vg.physicalVolumes.find((p) => p.base === name);
      if (pv) return `PV ${pv.name} of VG ${vg.name}`;
    }
    return "";
  };
  const result = new Map<string, string>();
  const names = [
    ...plan.disks.map((d) => d.name),
    ...plan.disks.flatMap((d) => d.partitions.map((p) => p.name)),
    ...plan.logicalVolumes.map((l) => l.name),
    ...plan.encrypted.map((e) => e.name),
    ...plan.raids.map((r) => r.name),
  ];
  for (const name of names) {
    const text = describe(name);
    if (text) result.set(name, text.replace(/ → $/, ""));
  }
  return result;
}

/** A proportional bar: each partition at least one cell wide, unused space as "·". */
export function renderBar(disk: DiskPlan): string {
  const totalSectors = disk.sizeBytes / disk.sectorSize;
  const cells = Array<string>(BAR_WIDTH).fill("·");
  const parts = disk.partitions.filter((p) => p.role !== "extended");
  const cellOf = (sector: number) => Math.min(BAR_WIDTH - 1, Math.floor((sector / totalSectors) * BAR_WIDTH));
  if (parts.length === 0) {
    cells.fill("█");
    return `  [${cells.join("")}]`;
  }
  let lastEnd = -1;
  for (const part of parts) {
    const start = Math.max(cellOf(part.startSector), lastEnd + 1);
    if (start >= BAR_WIDTH) break;
    const end = Math.max(start, cellOf(part.startSector + part.sizeSectors - 1));
    const width = end - start + 1;
    const name = width >= 3 ? part.name.slice(0, width - 2) : "";
    const fill = width === 1 ? "|" : `[${name}${"=".repeat(Math.max(0, width - 2 - name.length))}]`;
    for (let i = 0; i < width && start + i < BAR_WIDTH; i += 1) cells[start + i] = fill[i]!;
    lastEnd = end;
  }
  return `  ${cells.join("")}\n  0${formatBytes(disk.sizeBytes).padStart(BAR_WIDTH - 1)}`;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `  ${cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd()}`;
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
