/** Planning level 0: image files and existing devices, the disks everything else is laid out on. */
import { join } from "node:path";
import type { DiskNode } from "../../config/model.js";
import { parseAbsoluteSize } from "../../core/size.js";
import { devicePlaceholder, type PlanContext } from "../../plan/context.js";

export function planDisk(context: PlanContext, node: DiskNode): void {
  const sizeBytes = diskSize(context, node);
  if (sizeBytes === undefined) return;
  if (sizeBytes % node.sectorSize !== 0) {
    context.problem(
      [...node.origin, ...(node.size !== undefined ? ["size"] : [])],
      `disk "${node.name}" is ${sizeBytes} bytes, not a whole number of ${node.sectorSize}-byte sectors`,
      `use a size that is a multiple of ${node.sectorSize}, e.g. in MiB or GiB`,
    );
    return;
  }
  const path =
    node.kind === "device"
      ? node.devicePath!
      : join(node.directory ?? context.options.imageDir ?? ".", `${node.name}.raw`);
  context.plan.disks.push({
    name: node.name,
    kind: node.kind,
    path,
    sizeBytes,
    sectorSize: node.sectorSize,
    label: null,
    partitioning: null,
    alignBytes: 1024 * 1024,
    partitions: [],
  });
  context.setDevice(node.name, {
    sizeBytes,
    sectorSize: node.sectorSize,
    device: devicePlaceholder(node.name),
  });
  if (node.kind === "local_loop") {
    context.step(node.name, "create-image", [], `create sparse image ${path} of ${sizeBytes} bytes`);
    context.step(
      node.name,
      "attach",
      ["losetup", "--show", "--find", "--partscan", path],
      `attach ${path} to a loop device`,
    );
  } else {
    context.step(
      node.name,
      "check-device",
      ["wipefs", "--no-act", "--json", path],
      `refuse ${path} if it is mounted, held or carries signatures${node.wipe ? " (wipe: true allows signatures)" : ""}`,
    );
  }
}

function diskSize(context: PlanContext, node: DiskNode): number | undefined {
  if (node.kind === "device") {
    const real = context.options.deviceSizes?.[node.name];
    if (real !== undefined) return real;
    if (node.size !== undefined) return parseAbsoluteSize(node.size);
    context.problem(
      node.origin,
      `the size of device "${node.name}" (${node.devicePath}) is unknown while planning`,
      "add `size:` to plan without the device; device mode reads the real size",
    );
    return undefined;
  }
  if (node.size !== undefined) return parseAbsoluteSize(node.size);
  if (context.options.imageSize !== undefined) return parseAbsoluteSize(context.options.imageSize);
  context.problem(
    node.origin,
    `image "${node.name}" has no size`,
    "add `size:` to the local_loop entry, pass --size, or set image-size in the params file",
  );
  return undefined;
}
