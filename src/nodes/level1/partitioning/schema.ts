import { z } from "zod";
import { baseRef, nodeName, sizeSpec } from "../../common.js";

export const partitionSchema = z.strictObject({
  name: nodeName,
  base: baseRef.optional(),
  size: sizeSpec(true),
  flags: z
    .array(z.enum(["boot", "primary"]))
    .optional()
    .describe("`boot`: active/bootable; `primary` (MBR only): a primary rather than a logical partition."),
  type: z
    .union([z.string().min(1), z.number().int().nonnegative()])
    .optional()
    .describe('MBR: hex type ("83", "ef"); GPT: sgdisk code ("8300", "EF00") or a type GUID.'),
});
export type PartitionConfig = z.infer<typeof partitionSchema>;

/** `partitioning`: an MBR or GPT partition table on a level-0 device (DIB level 1). */
export const partitioningSchema = z.strictObject({
  name: nodeName,
  base: baseRef,
  label: z.enum(["mbr", "gpt"]).describe("Partition table type."),
  align: sizeSpec(false).optional().describe("Partition alignment; default 1MiB."),
  partitions: z.array(partitionSchema).min(1),
});
export type PartitioningConfig = z.infer<typeof partitioningSchema>;
