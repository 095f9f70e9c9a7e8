/** Device mode for `partitioning`: the table exactly as planned, then the kernel's partition devices. */
import { closeSync, existsSync, fsyncSync, openSync } from "node:fs";
import { basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { DeviceSession } from "../../../device/session.js";
import { applySectorWrites } from "../../../formats/apply.js";
import { purposes } from "../../../formats/identifiers.js";
import { writeGpt } from "../../../formats/gpt.js";
import { writeMbr } from "../../../formats/mbr.js";
import type { DiskPlan } from "../../../plan/types.js";

const DEVICE_NODE_DEADLINE_MS = 10_000;

export function writePartitionTable(session: DeviceSession, disk: DiskPlan): void {
  const device = session.devices.get(disk.name)!;
  // Both tables are written by blocksmith itself: MBR/EBRs byte for byte as DIB's writer, GPT byte for
  // byte as sgdisk (src/formats), with identifiers derived from --seed when one is given.
  const writes =
    disk.label === "mbr"
      ? writeMbr(disk, { diskSignature: session.ids.mbrSignature(purposes.mbrSignature(disk.name)) })
      : writeGpt(disk, {
          diskGuid: session.ids.uuid(purposes.gptDisk(disk.name)),
          partitionGuids: disk.partitions.map((p) =>
            session.ids.uuid(purposes.gptPartition(disk.name, p.name)),
          ),
        });
  const fd = openSync(device, "r+");
  try {
    applySectorWrites(fd, writes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Tells the kernel about the new table and waits (bounded, no fixed sleep) for the device nodes. */
export async function scanPartitions(session: DeviceSession, disk: DiskPlan): Promise<void> {
  const device = session.devices.get(disk.name)!;
  await session.run(["partx", "--update", device], `scan the partitions of ${device}`);
  // Kernels without the partition parser (and `partx --update` with MBR logicals, seen with util-linux
  // 2.38) leave partitions out; add each missing one by number. The kernel then makes the device node.
  const kernelName = basename(device);
  for (const partition of disk.partitions) {
    if (existsSync(`/sys/block/${kernelName}/${partitionName(kernelName, partition.number)}`)) continue;
    const range = `${partition.number}:${partition.number}`;
    await session.run(
      ["partx", "--add", "--nr", range, device],
      `add partition ${partition.number} of ${device}`,
    );
  }
  const deadline = Date.now() + DEVICE_NODE_DEADLINE_MS;
  for (const partition of disk.partitions) {
    if (partition.role === "extended") continue;
    const node = partitionName(device, partition.number);
    while (!existsSync(node)) {
      if (Date.now() > deadline)
        throw new Error(
          `${node} did not appear within ${DEVICE_NODE_DEADLINE_MS / 1000} s after partx --update`,
        );
      await sleep(20);
    }
    session.devices.set(partition.name, node);
  }
}

/** The kernel's partition naming: "p" before the number when the disk's name ends in a digit (loop0p1, nvme0n1p1), none otherwise (sdb1). */
export function partitionName(device: string, number: number): string {
  return `${device}${/\d$/.test(device) ? "p" : ""}${number}`;
}
