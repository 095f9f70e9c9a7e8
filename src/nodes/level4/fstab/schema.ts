import { z } from "zod";
import { baseRef, nodeName } from "../../common.js";

/** `fstab`: an /etc/fstab line for a mount (DIB level 4). */
export const fstabSchema = z.strictObject({
  name: nodeName,
  base: baseRef.describe("Name of the mount entry."),
  options: z.string().min(1).optional().describe('Mount options; default "defaults".'),
  "dump-freq": z.number().int().nonnegative().optional().describe("Default 0."),
  "fsck-passno": z.number().int().nonnegative().optional().describe("Default 2."),
});
export type FstabConfig = z.infer<typeof fstabSchema>;
