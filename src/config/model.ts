/**
 * The validated, typed config: every graph node with its settings resolved to the types the planner
 * uses, the edges between nodes and a creation order. Built by `validateGraph`.
 */
import type { KeyPath, SourceDocument } from "../core/source.js";
import type { GraphEntry } from "./tree-to-graph.js";

interface NodeCommon {
  name: string;
  /** Path of the node's settings in the source document. */
  origin: KeyPath;
  /** Index of the graph entry that declared it. */
  entryIndex: number;
}

export interface DiskNode extends NodeCommon {
  kind: "local_loop" | "device";
  size?: string | number;
  directory?: string;
  devicePath?: string;
  wipe: boolean;
  sectorSize: number;
}

export interface PartitioningNode extends NodeCommon {
  kind: "partitioning";
  base: string;
  label: "mbr" | "gpt";
  alignBytes: number;
  partitions: string[];
  /** blocksmith extension (`hybrid-mbr`): GPT partitions mirrored into a hybrid MBR, in MBR slot order. */
  hybridMbr?: string[];
}

export interface PartitionNode extends NodeCommon {
  kind: "partition";
  /** The disk (DIB sets a partition's base to its partitioning's base). */
  base: string;
  /** Key (see `nodeKey`) of the partitioning entry it belongs to. */
  partitioning: string;
  index: number;
  size: string | number;
  flags: ("boot" | "primary")[];
  type?: string;
}

export interface LvmNode extends NodeCommon {
  kind: "lvm";
  pvs: string[];
  vgs: string[];
  lvs: string[];
}

export interface PhysicalVolumeNode extends NodeCommon {
  kind: "pv";
  lvm: string;
  base: string;
  options: string[];
}

export interface VolumeGroupNode extends NodeCommon {
  kind: "vg";
  lvm: string;
  pvs: string[];
  options: string[];
}

export interface LogicalVolumeNode extends NodeCommon {
  kind: "lv";
  lvm: string;
  vg: string;
  size?: string;
  extents?: string;
  options: string[];
  lvType: "linear" | "thin-pool" | "thin";
  thinPool?: string;
}

export interface LuksNode extends NodeCommon {
  kind: "luks";
  base: string;
  luksType: "luks1" | "luks2";
  cipher: string;
  keySizeBits: number;
  pbkdf: "argon2id" | "argon2i" | "pbkdf2";
  /** cryptsetup --iter-time, in ms. */
  iterTimeMs?: number;
  keyFile?: string;
  passphraseFile?: string;
  label?: string;
}

export interface RaidNode extends NodeCommon {
  kind: "raid";
  bases: string[];
  level: 0 | 1 | 5 | 6 | 10;
  metadata: "1.2" | "1.1" | "1.0" | "0.90";
}

export interface MkfsNode extends NodeCommon {
  kind: "mkfs";
  base: string;
  fsType: string;
  label: string;
  uuid?: string;
  opts: string[];
}

export interface MountNode extends NodeCommon {
  kind: "mount";
  base: string;
  mountPoint: string;
}

export interface FstabNode extends NodeCommon {
  kind: "fstab";
  base: string;
  options: string;
  dumpFreq: number;
  fsckPassNo: number;
}

export type ModelNode =
  | DiskNode
  | PartitioningNode
  | PartitionNode
  | LvmNode
  | PhysicalVolumeNode
  | VolumeGroupNode
  | LogicalVolumeNode
  | LuksNode
  | RaidNode
  | MkfsNode
  | MountNode
  | FstabNode;

export type BlockDeviceNode = DiskNode | PartitionNode | LogicalVolumeNode | LuksNode | RaidNode;

export function isBlockDevice(node: ModelNode): node is BlockDeviceNode {
  return ["local_loop", "device", "partition", "lv", "luks", "raid"].includes(node.kind);
}

/**
 * Key of a node in `ConfigModel.nodes`. DIB's partitioning entries are no graph nodes (only their
 * partitions are), so their names may repeat another node's ("root" partitioning holding "root"
 * partition); they live under a key of their own.
 */
export function nodeKey(node: Pick<ModelNode, "kind" | "name">): string {
  return node.kind === "partitioning" ? partitioningKey(node.name) : node.name;
}

export function partitioningKey(name: string): string {
  return `partitioning:${name}`;
}

export interface ConfigModel {
  source: SourceDocument;
  entries: GraphEntry[];
  /** Every node by `nodeKey` (its name, except for partitionings). */
  nodes: Map<string, ModelNode>;
  /** Creation order (a topological order; ties broken by config order). Children follow parents. */
  order: string[];
  /** Mount nodes in mount order: every parent directory before its children. */
  mountOrder: string[];
}
