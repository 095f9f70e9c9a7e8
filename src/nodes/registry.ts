/**
 * Every node type blocksmith knows, by its config key. Adding a node type means adding its folder and
 * one line here.
 */
import type { z } from "zod";
import { deviceSchema } from "./level0/device/schema.js";
import { localLoopSchema } from "./level0/local-loop/schema.js";
import { luksSchema } from "./level1/luks/schema.js";
import { lvmSchema } from "./level1/lvm/schema.js";
import { partitioningSchema } from "./level1/partitioning/schema.js";
import { raidSchema } from "./level1/raid/schema.js";
import { mkfsSchema } from "./level2/mkfs/schema.js";
import { mountSchema } from "./level3/mount/schema.js";
import { fstabSchema } from "./level4/fstab/schema.js";

export interface NodeType {
  level: 0 | 1 | 2 | 3 | 4;
  schema: z.ZodType;
  /** True for the plugins diskimage-builder 3.13 registers; the others are blocksmith extensions. */
  inDib: boolean;
  summary: string;
}

export const NODE_TYPES = {
  local_loop: {
    level: 0,
    schema: localLoopSchema,
    inDib: true,
    summary: "sparse image file on a loop device",
  },
  device: { level: 0, schema: deviceSchema, inDib: false, summary: "existing block device" },
  partitioning: { level: 1, schema: partitioningSchema, inDib: true, summary: "MBR or GPT partition table" },
  lvm: {
    level: 1,
    schema: lvmSchema,
    inDib: true,
    summary: "LVM physical volumes, volume groups, logical volumes",
  },
  luks: { level: 1, schema: luksSchema, inDib: false, summary: "LUKS encryption" },
  raid: { level: 1, schema: raidSchema, inDib: false, summary: "md RAID array" },
  mkfs: { level: 2, schema: mkfsSchema, inDib: true, summary: "file system" },
  mount: { level: 3, schema: mountSchema, inDib: true, summary: "mount point" },
  fstab: { level: 4, schema: fstabSchema, inDib: true, summary: "/etc/fstab entry" },
} as const satisfies Record<string, NodeType>;

export type NodeKind = keyof typeof NODE_TYPES;

export function isNodeKind(key: string): key is NodeKind {
  return Object.hasOwn(NODE_TYPES, key);
}
