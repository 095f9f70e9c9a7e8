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
  "hybrid-mbr": z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe(
      "blocksmith extension, GPT only: 1 to 3 partition names to mirror into a hybrid MBR, as `sgdisk -h` does " +
        "(0xEE protective entry first, then these in order; `boot` marks an entry active).",
    ),
});
export type PartitioningConfig = z.infer<typeof partitioningSchema>;
