/**
 * Offline mode for `lvm`: blocksmith writes the PV labels and the VG metadata itself (src/formats/lvm2.ts)
 * with the extents where lvcreate would have put them (allocate.ts), and tells the build where each LV's
 * bytes are in the image, so file systems are made straight into them. Linear LVs only: thin pools need
 * the thin-provisioning metadata format, which no tool writes without device-mapper.
 */
import type { ConfigModel } from "../../../config/model.js";
import { UnsupportedError } from "../../../core/errors.js";
import { writeVolumeGroup, type LvmVolumeGroup } from "../../../formats/lvm2.js";
import { purposes, type IdentifierSource } from "../../../formats/identifiers.js";
import type { SectorWrite } from "../../../formats/sector-write.js";
import type { Plan } from "../../../plan/types.js";
import { allocateLinear } from "./allocate.js";
import { extentSizeOptionAt } from "./lvm-layout.js";

/** A contiguous run of an LV's bytes in one of the build's files (the image, or a LUKS volume's plain file). */
export interface LvPiece {
  file: string;
  lvOffsetBytes: number;
  fileOffsetBytes: number;
  lengthBytes: number;
}

/** Where a device starts: in which of the build's files, at which offset. */
export interface DeviceLocation {
  file: string;
  offsetBytes: number;
}

export interface OfflineLvm {
  /** Metadata writes, each with the file it goes into. */
  writes: { file: string; write: SectorWrite }[];
  /** By LV name: its bytes, in LV order. */
  pieces: Map<string, LvPiece[]>;
  volumeGroups: LvmVolumeGroup[];
}

/** What offline mode cannot honour, refused before anything is written. */
export function checkOfflineLvm(model: ConfigModel, plan: Plan): void {
  const refusals: string[] = [];
  for (const lv of plan.logicalVolumes)
    if (lv.lvType !== "linear") refusals.push(`LV "${lv.name}" is ${lv.lvType}; offline LVs are linear`);
  for (const node of model.nodes.values()) {
    if (node.kind !== "pv" && node.kind !== "vg" && node.kind !== "lv") continue;
    const command = { pv: "pvcreate", vg: "vgcreate", lv: "lvcreate" }[node.kind];
    const unknown = metadataChangingOptions(node.options, node.kind);
    if (unknown.length > 0) refusals.push(`${command} options of "${node.name}" (${unknown.join(" ")})`);
  }
  if (refusals.length > 0)
    throw new UnsupportedError(
      `offline builds write LVM metadata themselves and cannot follow: ${refusals.join("; ")}.` +
        " Drop them, or build in device mode (blocksmith --params FILE create, as root)",
    );
}

/**
 * Options that only steer the command, not what it writes (DIB's own LVM element passes `--force` to
 * pvcreate and vgcreate), and `-s`, which the planner reads: the rest change the metadata.
 */
const HARMLESS_OPTIONS = new Set(["-f", "-ff", "--force", "-y", "--yes", "-q", "--quiet", "-v", "--verbose"]);
const LV_ZEROING = /^(-Z[yn]|--zero=[yn]|-W[yn]|--wipesignatures=[yn]|-a[yn]|--activate=[yn])$/;

function metadataChangingOptions(options: readonly string[], kind: "pv" | "vg" | "lv"): string[] {
  const unknown: string[] = [];
  for (let i = 0; i < options.length; i += 1) {
    const option = options[i]!;
    if (HARMLESS_OPTIONS.has(option)) continue;
    const extentSize = kind === "vg" ? extentSizeOptionAt(options, i) : undefined;
    if (extentSize) i += extentSize.length - 1;
    // An LV of an offline image is written, not activated, and only its file system's bytes are put in.
    else if (kind === "lv" && LV_ZEROING.test(option)) continue;
    else if (kind === "lv" && /^(-Z|--zero|-W|--wipesignatures|-a|--activate)$/.test(option)) i += 1;
    else unknown.push(option);
  }
  return unknown;
}

export interface OfflineLvmInput {
  plan: Plan;
  /** Where the device a PV is made on (its `base`) starts. */
  locate: (base: string) => DeviceLocation;
  ids: IdentifierSource;
  creationTime: number;
  creationHost: string;
  description: string;
}

export function layoutOfflineLvm(input: OfflineLvmInput): OfflineLvm {
  const { plan, ids } = input;
  const writes: OfflineLvm["writes"] = [];
  const pieces = new Map<string, LvPiece[]>();
  const volumeGroups: LvmVolumeGroup[] = [];
  for (const vg of plan.volumeGroups) {
    const lvs = plan.logicalVolumes.filter((lv) => lv.volumeGroup === vg.name);
    const segments = allocateLinear(
      vg.physicalVolumes.map((pv) => pv.extentCount),
      lvs.map((lv) => ({ name: lv.name, extents: lv.extents })),
    );
    const metadata: LvmVolumeGroup = {
      name: vg.name,
      id: ids.lvmId(purposes.lvmVg(vg.name)),
      extentSizeBytes: vg.extentSizeBytes,
      physicalVolumes: vg.physicalVolumes.map((pv) => ({
        id: ids.lvmId(purposes.lvmPv(pv.name)),
        deviceSizeBytes: pv.sizeBytes,
        peStartBytes: pv.peStartBytes,
        extentCount: pv.extentCount,
      })),
      logicalVolumes: lvs.map((lv) => ({
        name: lv.name,
        id: ids.lvmId(purposes.lvmLv(vg.name, lv.name)),
        segments: segments.get(lv.name)!,
      })),
      creationTime: input.creationTime,
      creationHost: input.creationHost,
    };
    volumeGroups.push(metadata);
    const pvLocations = vg.physicalVolumes.map((pv) => input.locate(pv.base));
    writeVolumeGroup(metadata, input.description).forEach((pvWrites, index) => {
      const { file, offsetBytes } = pvLocations[index]!;
      for (const write of pvWrites)
        writes.push({ file, write: { offsetBytes: offsetBytes + write.offsetBytes, data: write.data } });
    });
    for (const lv of metadata.logicalVolumes) {
      pieces.set(
        lv.name,
        mergeAdjacent(
          lv.segments.map((segment) => ({
            file: pvLocations[segment.pv]!.file,
            lvOffsetBytes: segment.lvStartExtent * vg.extentSizeBytes,
            fileOffsetBytes:
              pvLocations[segment.pv]!.offsetBytes +
              vg.physicalVolumes[segment.pv]!.peStartBytes +
              segment.pvStartExtent * vg.extentSizeBytes,
            lengthBytes: segment.extentCount * vg.extentSizeBytes,
          })),
        ),
      );
    }
  }
  return { writes, pieces, volumeGroups };
}

/** Segments that follow each other in the file too (two PVs on neighbouring partitions never do). */
function mergeAdjacent(pieces: LvPiece[]): LvPiece[] {
  const merged: LvPiece[] = [];
  for (const piece of pieces) {
    const last = merged.at(-1);
    if (last && last.file === piece.file && last.fileOffsetBytes + last.lengthBytes === piece.fileOffsetBytes)
      last.lengthBytes += piece.lengthBytes;
    else merged.push({ ...piece });
  }
  return merged;
}
