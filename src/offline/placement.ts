/**
 * Where each block device of the plan lies in the image file: the disk itself, a partition, an LV (one
 * or more pieces on its PVs). The executors write through these, so a file system never needs to know
 * what it sits on.
 */
import { writeSync } from "node:fs";
import type { LvPiece, OfflineLvm } from "../nodes/level1/lvm/offline.js";
import type { DiskPlan, Plan } from "../plan/types.js";

export interface Placement {
  offsetBytes: number;
  sizeBytes: number;
  /** What the partition table says the device starts at (FAT's hidden sectors); 0 for the disk and LVs. */
  startSector: number;
  /** An LV spread over several places in the image: its pieces, in LV order. */
  pieces?: LvPiece[];
  /** The device's logical sector size when it is not 512 (an opened LUKS2 volume with 4 KiB sectors). */
  logicalSectorBytes?: number;
}

/** Where a device of the disk begins in the image: the disk itself, or one of its partitions. */
export function baseOffsetBytes(disk: DiskPlan, base: string): number {
  if (base === disk.name) return 0;
  const partition = disk.partitions.find((p) => p.name === base);
  if (!partition) throw new Error(`internal: ${base} is not on ${disk.name}`);
  return partition.startBytes;
}

/** Where the device named `base` lies: the whole disk, a partition, or an LV. */
export function placementOf(
  disk: DiskPlan,
  plan: Plan,
  lvm: OfflineLvm | undefined,
  base: string,
): Placement {
  if (base === disk.name) return { offsetBytes: 0, sizeBytes: disk.sizeBytes, startSector: 0 };
  const partition = disk.partitions.find((p) => p.name === base);
  if (partition)
    return {
      offsetBytes: partition.startBytes,
      sizeBytes: partition.sizeBytes,
      startSector: partition.startSector,
    };
  const lv = plan.logicalVolumes.find((candidate) => candidate.name === base);
  const pieces = lvm?.pieces.get(base);
  if (!lv || !pieces) throw new Error(`internal: ${base} is not a device of the image`);
  return {
    offsetBytes: pieces[0]!.imageOffsetBytes,
    sizeBytes: lv.sizeBytes,
    startSector: 0,
    ...(pieces.length > 1 ? { pieces } : {}),
  };
}

/** A placement as pieces (one for a partition or a contiguous LV). */
export function piecesOf(placement: Placement): LvPiece[] {
  return (
    placement.pieces ?? [
      { lvOffsetBytes: 0, imageOffsetBytes: placement.offsetBytes, lengthBytes: placement.sizeBytes },
    ]
  );
}

/** Writes `data` at `offsetBytes` of the device made of `pieces`, each part into the piece that holds it. */
export function writeMapped(fd: number, pieces: readonly LvPiece[], offsetBytes: number, data: Buffer): void {
  const end = offsetBytes + data.length;
  for (const piece of pieces) {
    const from = Math.max(offsetBytes, piece.lvOffsetBytes);
    const to = Math.min(end, piece.lvOffsetBytes + piece.lengthBytes);
    if (from >= to) continue;
    const target = piece.imageOffsetBytes + (from - piece.lvOffsetBytes);
    for (let done = from; done < to;)
      done += writeSync(fd, data, done - offsetBytes, to - done, target + (done - from));
  }
}
