/** Planning a file system: its size (the device's), label, and the mkfs argv DIB would run. */
import type { MkfsNode } from "../../../config/model.js";
import type { PlanContext } from "../../../plan/context.js";

/** Smallest device each mkfs accepts with default options (from the tools' own limits). */
const MIN_SIZE_BYTES: Record<string, number> = {
  xfs: 300 * 1024 * 1024,
  btrfs: 114 * 1024 * 1024,
  swap: 40 * 1024,
};

export function planMkfs(context: PlanContext, node: MkfsNode): void {
  const device = context.device(node.base);
  if (!device) return;
  const minimum = MIN_SIZE_BYTES[node.fsType];
  if (minimum !== undefined && device.sizeBytes < minimum)
    context.problem(
      [...node.origin, "type"],
      `${node.fsType} needs at least ${minimum} bytes, but "${node.base}" has ${device.sizeBytes}`,
      `make "${node.base}" larger or choose another file system type`,
    );
  context.plan.filesystems.push({
    name: node.name,
    base: node.base,
    type: node.fsType,
    label: node.label,
    ...(node.uuid !== undefined ? { uuid: node.uuid } : {}),
    opts: node.opts,
    sizeBytes: device.sizeBytes,
  });
  context.step(
    node.name,
    "mkfs",
    mkfsArgv(node, device.device),
    `make ${node.fsType} "${node.label}" on ${node.base}`,
  );
}

/** The argv device mode runs; for DIB's types exactly DIB's `mkfs -t …` command. */
export function mkfsArgv(node: MkfsNode, device: string): string[] {
  const uuid = node.uuid ?? `{uuid:${node.name}}`;
  if (node.fsType === "swap") return ["mkswap", "-L", node.label, "-U", uuid, device];
  const argv = ["mkfs", "-t", node.fsType, ...node.opts];
  if (node.fsType === "vfat" || node.fsType === "fat") {
    argv.push("-n", node.label);
    // FAT has a 32-bit volume id, not a UUID; DIB writes none. We pass one only when given.
    if (node.uuid !== undefined) argv.push("-i", node.uuid.replace("-", ""));
  } else {
    argv.push("-L", node.label);
  }
  if (["ext2", "ext3", "ext4", "btrfs"].includes(node.fsType)) argv.push("-U", uuid);
  else if (node.fsType === "xfs") argv.push("-m", `uuid=${uuid}`);
  if (["ext2", "ext3", "ext4", "xfs", "btrfs"].includes(node.fsType)) argv.push("-q");
  argv.push(device);
  return argv;
}
