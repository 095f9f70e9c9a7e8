import { z } from "zod";
import { baseRef, nodeName } from "../../common.js";

/** `mount`: where a file system is mounted while the image is built (DIB level 3). */
export const mountSchema = z.strictObject({
  name: nodeName,
  base: baseRef.describe("Name of the mkfs entry."),
  mount_point: z.string().min(1).describe("Absolute path inside the image, e.g. / or /var/log."),
});
export type MountConfig = z.infer<typeof mountSchema>;
