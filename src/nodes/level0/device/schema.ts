import { z } from "zod";
import { nodeName, sectorSize, sizeSpec } from "../../common.js";

/** `device`: an existing block device as the level-0 target (spec use case 1; DIB never implemented it). */
export const deviceSchema = z.strictObject({
  name: nodeName,
  path: z
    .string()
    .regex(/^\/dev\/\S+$/, {
      message: "must be a device path under /dev, e.g. /dev/sdb or /dev/disk/by-id/…",
    })
    .describe("Path of the block device."),
  size: sizeSpec(false)
    .optional()
    .describe("Expected size, for planning without the device; device mode uses the real size."),
  wipe: z.boolean().optional().describe("Allow overwriting existing signatures on the device."),
  "sector-size": sectorSize.optional(),
});
export type DeviceConfig = z.infer<typeof deviceSchema>;
