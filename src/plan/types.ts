/**
 * The plan: every byte decided, before anything touches a disk. Pure data; `--json` prints it as is.
 * Executors (device mode, offline mode) consume it and never recompute sizes.
 */

export type PartitionRole = "primary" | "logical" | "extended" | "gpt";

export interface PartitionPlan {
  /** Node name from the config; the MBR extended container is named "extended" (it is no graph node). */
  name: string;
  /** The kernel's number: MBR primaries 1–4, logicals from 5; GPT entries 1…n. */
  number: number;
  role: PartitionRole;
  startSector: number;
  sizeSectors: number;
  startBytes: number;
  sizeBytes: number;
  /** MBR: "0x83" form; GPT: the type GUID in upper case. */
  type: string;
  /** GPT type as written in the config (sgdisk code such as "EF00"), or MBR type as written. */
  typeCode: string;
  /** "boot", "primary". */
  flags: string[];
  /** GPT partition name (DIB passes the node name to `sgdisk -c`). */
  gptName?: string;
  /** MBR logicals: the sector of the EBR that describes this partition. */
  ebrSector?: number;
}

export interface DiskPlan {
  /** Level-0 node name (e.g. "image0"). */
  name: string;
  kind: "local_loop" | "device";
  /** Image file path (local_loop) or block device path (device). */
  path: string;
  sizeBytes: number;
  sectorSize: number;
  label: "mbr" | "gpt" | null;
  /** Name of the partitioning node on this disk, if any. */
  partitioning: string | null;
  alignBytes: number;
  /** GPT: first and last LBA a partition may use. */
  firstUsableSector?: number;
  lastUsableSector?: number;
  partitions: PartitionPlan[];
  /** GPT with `hybrid-mbr`: the partition numbers mirrored into the MBR, in slot order after the 0xEE entry. */
  hybridMbr?: number[];
}

export interface PhysicalVolumePlan {
  name: string;
  base: string;
  device: string;
  sizeBytes: number;
  peStartBytes: number;
  extentCount: number;
}

export interface VolumeGroupPlan {
  name: string;
  /** The lvm node that declares it. */
  lvm: string;
  physicalVolumes: PhysicalVolumePlan[];
  extentSizeBytes: number;
  extentCount: number;
  freeExtents: number;
  sizeBytes: number;
}

export interface LogicalVolumePlan {
  name: string;
  volumeGroup: string;
  /** As written: `size` or `extents`. */
  request: { size?: string; extents?: string };
  /** "linear", "thin-pool" or "thin". */
  lvType: "linear" | "thin-pool" | "thin";
  thinPool?: string;
  extents: number;
  sizeBytes: number;
  device: string;
}

export interface EncryptedPlan {
  name: string;
  base: string;
  luksType: "luks1" | "luks2";
  cipher: string;
  keySizeBits: number;
  pbkdf: string;
  keySource: { kind: "key-file" | "passphrase-file"; path: string } | null;
  payloadOffsetBytes: number;
  baseSizeBytes: number;
  sizeBytes: number;
  device: string;
}

export interface RaidPlan {
  name: string;
  bases: string[];
  level: number;
  metadata: string;
  memberSizeBytes: number;
  dataOffsetBytes: number;
  sizeBytes: number;
  device: string;
}

export interface FilesystemPlan {
  name: string;
  base: string;
  type: string;
  label: string;
  uuid?: string;
  opts: string[];
  sizeBytes: number;
}

export interface MountPlan {
  name: string;
  base: string;
  mountPoint: string;
}

export interface FstabPlan {
  name: string;
  base: string;
  /** The file system it refers to (`LABEL=` or `UUID=`). */
  spec: string;
  mountPoint: string;
  fsType: string;
  options: string;
  dumpFreq: number;
  fsckPassNo: number;
}

export interface StepPlan {
  /** Node the step belongs to. */
  node: string;
  /** Short verb: "create-image", "attach", "partition", "pvcreate", "mkfs", "mount", … */
  action: string;
  /** The command device mode runs, as an argv array; empty for steps blocksmith does in-process. */
  argv: string[];
  description: string;
}

export interface Plan {
  disks: DiskPlan[];
  volumeGroups: VolumeGroupPlan[];
  logicalVolumes: LogicalVolumePlan[];
  encrypted: EncryptedPlan[];
  raids: RaidPlan[];
  filesystems: FilesystemPlan[];
  mounts: MountPlan[];
  fstab: FstabPlan[];
  steps: StepPlan[];
}

/** A plan with nothing in it (the start of planning; device mode's view when no state was written). */
export function emptyPlan(): Plan {
  return {
    disks: [],
    volumeGroups: [],
    logicalVolumes: [],
    encrypted: [],
    raids: [],
    filesystems: [],
    mounts: [],
    fstab: [],
    steps: [],
  };
}
