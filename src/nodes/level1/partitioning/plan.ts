/** Planning a partition table: exact sectors for every partition, via the DIB-compatible layouts. */
import type { PartitioningNode } from "../../../config/model.js";
import { devicePlaceholder, type PlanContext, withLayout } from "../../../plan/context.js";
import type { DiskPlan, PartitionPlan } from "../../../plan/types.js";
import { layoutGpt } from "./gpt-layout.js";
import { layoutMbr } from "./mbr-layout.js";

export function planPartitioning(context: PlanContext, node: PartitioningNode): void {
  const disk = context.plan.disks.find((d) => d.name === node.base);
  if (!disk) return; // the disk itself failed to plan; its problem is already reported
  const partitions = node.partitions.map((name) => context.node(name, "partition"));
  const itemPath = (index: number) => partitions[index]?.origin ?? node.origin;
  const common = { diskSizeBytes: disk.sizeBytes, sectorSize: disk.sectorSize, alignBytes: node.alignBytes };
  let laidOut: PartitionPlan[] | undefined;
  if (node.label === "mbr") {
    laidOut = withLayout(
      context,
      () =>
        layoutMbr({
          ...common,
          partitions: partitions.map((p) => ({
            name: p.name,
            size: String(p.size),
            primary: p.flags.includes("primary"),
            boot: p.flags.includes("boot"),
            ...(p.type !== undefined ? { type: p.type } : {}),
          })),
        }).partitions,
      itemPath,
      node.origin,
    );
  } else {
    const gpt = withLayout(
      context,
      () =>
        layoutGpt({
          ...common,
          partitions: partitions.map((p) => ({
            name: p.name,
            size: String(p.size),
            boot: p.flags.includes("boot"),
            ...(p.type !== undefined ? { type: p.type } : {}),
          })),
        }),
      itemPath,
      node.origin,
    );
    if (gpt) {
      laidOut = gpt.partitions;
      disk.firstUsableSector = gpt.firstUsableSector;
      disk.lastUsableSector = gpt.lastUsableSector;
    }
  }
  if (!laidOut) return;
  disk.label = node.label;
  disk.partitioning = node.name;
  disk.alignBytes = node.alignBytes;
  disk.partitions = laidOut;
  if (node.label === "gpt" && node.hybridMbr !== undefined) planHybridMbr(context, node, laidOut, disk);
  for (const partition of laidOut) {
    if (partition.role === "extended") continue;
    context.setDevice(partition.name, {
      sizeBytes: partition.sizeBytes,
      sectorSize: disk.sectorSize,
      device: devicePlaceholder(partition.name),
    });
  }
  const diskDevice = devicePlaceholder(disk.name);
  // blocksmith writes both table kinds itself (src/formats): MBR/EBRs as DIB's writer does, GPT as
  // sgdisk does (the legacy-BIOS-bootable attribute, bit 2, for "boot"), so identifiers can come from
  // --seed. Hence no argv.
  const logicals = laidOut.some((p) => p.role === "logical");
  context.step(
    node.name,
    "write-partition-table",
    [],
    node.label === "mbr"
      ? `write MBR${logicals ? " and EBR chain" : ""} on ${disk.name}`
      : `write GPT (${disk.hybridMbr ? "hybrid" : "protective"} MBR, both headers and entry arrays) on ${disk.name}`,
  );
  context.step(
    node.name,
    "rescan-partitions",
    ["partx", "--update", diskDevice],
    `make the kernel see the partitions of ${disk.name}`,
  );
}

// An MBR entry counts sectors in 32 bits; sgdisk -h refuses ("too big") a partition past that.
const MBR_SECTOR_LIMIT = 2 ** 32;

/** `hybrid-mbr`: names → partition numbers, in the order listed (sgdisk -h keeps that order too). */
function planHybridMbr(
  context: PlanContext,
  node: PartitioningNode,
  laidOut: PartitionPlan[],
  disk: DiskPlan,
): void {
  const numbers: number[] = [];
  node.hybridMbr?.forEach((name, index) => {
    const partition = laidOut.find((p) => p.name === name);
    if (!partition) return; // validation already reported the unknown name
    if (partition.startSector + partition.sizeSectors > MBR_SECTOR_LIMIT) {
      context.problem(
        [...node.origin, "hybrid-mbr", index],
        `partition ${name} ends past sector ${MBR_SECTOR_LIMIT}, which an MBR entry cannot address`,
        "leave it out of hybrid-mbr, or place it lower on the disk",
      );
      return;
    }
    numbers.push(partition.number);
  });
  disk.hybridMbr = numbers;
}
