/**
 * Where each block device of the plan lies among the build's files: the disk and its partitions in the
 * image file; an opened LUKS volume in a plain file of its own (encrypted into its base at the end); an LV
 * in one or more pieces on its PVs, wherever those are. Executors write through these, so a file system
 * or a PV never needs to know what it sits on.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import type { DeviceLocation, LvPiece, OfflineLvm } from "../nodes/level1/lvm/offline.js";
import type { DiskPlan, Plan } from "../plan/types.js";

export interface Placement {
  file: string;
  offsetBytes: number;
  sizeBytes: number;
  /** What the partition table says the device starts at (FAT's hidden sectors); 0 for the disk and LVs. */
  startSector: number;
  /** An LV spread over several places: its pieces, in LV order. */
  pieces?: LvPiece[];
  /** The device's logical sector size when it is not 512 (an opened LUKS2 volume with 4 KiB sectors). */
  logicalSectorBytes?: number;
}

export interface OpenedLuks {
  /** The opened volume's bytes, in the clear, until they are encrypted into the base device. */
  plainFile: string;
  sectorBytes: number;
}

export interface DeviceMap {
  disk: DiskPlan;
  plan: Plan;
  imageFile: string;
  lvm?: OfflineLvm;
  luks: ReadonlyMap<string, OpenedLuks>;
}

/** Where the device named `base` lies: the whole disk, a partition, an opened LUKS volume or an LV. */
export function placementOf(map: DeviceMap, base: string): Placement {
  const { disk, plan } = map;
  if (base === disk.name)
    return { file: map.imageFile, offsetBytes: 0, sizeBytes: disk.sizeBytes, startSector: 0 };
  const partition = disk.partitions.find((p) => p.name === base);
  if (partition)
    return {
      file: map.imageFile,
      offsetBytes: partition.startBytes,
      sizeBytes: partition.sizeBytes,
      startSector: partition.startSector,
    };
  const volume = plan.encrypted.find((candidate) => candidate.name === base);
  const opened = map.luks.get(base);
  if (volume && opened)
    return {
      file: opened.plainFile,
      offsetBytes: 0,
      sizeBytes: volume.sizeBytes,
      startSector: 0,
      ...(opened.sectorBytes !== 512 ? { logicalSectorBytes: opened.sectorBytes } : {}),
    };
  const lv = plan.logicalVolumes.find((candidate) => candidate.name === base);
  const pieces = map.lvm?.pieces.get(base);
  if (!lv || !pieces) throw new Error(`internal: ${base} is not a device of the image`);
  // device-mapper gives an LV the largest logical sector size of its PVs (4096 on a LUKS2 volume).
  const vg = plan.volumeGroups.find((candidate) => candidate.name === lv.volumeGroup);
  const sector = Math.max(
    512,
    ...(vg?.physicalVolumes ?? []).map((pv) => placementOf(map, pv.base).logicalSectorBytes ?? 512),
  );
  return {
    file: pieces[0]!.file,
    offsetBytes: pieces[0]!.fileOffsetBytes,
    sizeBytes: lv.sizeBytes,
    startSector: 0,
    ...(pieces.length > 1 ? { pieces } : {}),
    ...(sector !== 512 ? { logicalSectorBytes: sector } : {}),
  };
}

/** Where a device that holds a PV starts (a PV on an LV, LVM on LVM, is refused by the planner's graph). */
export function locationOf(map: DeviceMap, base: string): DeviceLocation {
  const placement = placementOf(map, base);
  if (placement.pieces) throw new Error(`internal: a PV on ${base}, an LV in pieces`);
  return { file: placement.file, offsetBytes: placement.offsetBytes };
}

/** A placement as pieces (one for anything but an LV in several). */
export function piecesOf(placement: Placement): LvPiece[] {
  return (
    placement.pieces ?? [
      {
        file: placement.file,
        lvOffsetBytes: 0,
        fileOffsetBytes: placement.offsetBytes,
        lengthBytes: placement.sizeBytes,
      },
    ]
  );
}

/** The build's files opened for writing, each once; close() when done. */
export class OpenFiles {
  private readonly fds = new Map<string, number>();

  fd(file: string): number {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      fd = openSync(file, "r+");
      this.fds.set(file, fd);
    }
    return fd;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/** The part of the device's [start, end) that `piece` holds, or undefined when it holds none of it. */
export function clipToPiece(piece: LvPiece, start: number, end: number): [number, number] | undefined {
  const from = Math.max(start, piece.lvOffsetBytes);
  const to = Math.min(end, piece.lvOffsetBytes + piece.lengthBytes);
  return from < to ? [from, to] : undefined;
}

/** Writes `data` at `offsetBytes` of the device made of `pieces`, each part into the piece that holds it. */
export function writeMapped(
  files: OpenFiles,
  pieces: readonly LvPiece[],
  offsetBytes: number,
  data: Buffer,
): void {
  for (const piece of pieces) {
    const part = clipToPiece(piece, offsetBytes, offsetBytes + data.length);
    if (!part) continue;
    const [from, to] = part;
    const fd = files.fd(piece.file);
    const target = piece.fileOffsetBytes + (from - piece.lvOffsetBytes);
    for (let done = from; done < to;)
      done += writeSync(fd, data, done - offsetBytes, to - done, target + (done - from));
  }
}
