import { z } from "zod";
import { baseRef, nodeName } from "../../common.js";

export const FILESYSTEM_TYPES = ["ext2", "ext3", "ext4", "xfs", "vfat", "fat", "btrfs", "swap"] as const;

/** `mkfs`: a file system on a block device (DIB level 2). */
export const mkfsSchema = z.strictObject({
  name: nodeName,
  base: baseRef,
  type: z.enum(FILESYSTEM_TYPES).describe("File system type."),
  label: z.string().min(1).optional().describe("Default: the node name (vfat: upper-cased), as in DIB."),
  opts: z.string().optional().describe("Extra mkfs options, split on spaces as DIB does."),
  uuid: z
    .string()
    .regex(
      /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{4}-?[0-9a-fA-F]{4})$/,
      {
        message:
          "must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or, for vfat, a volume id (XXXX-XXXX)",
      },
    )
    .optional(),
});
export type MkfsConfig = z.infer<typeof mkfsSchema>;
