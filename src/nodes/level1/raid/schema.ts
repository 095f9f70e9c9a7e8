import { z } from "zod";
import { baseRef, deviceMapperName } from "../../common.js";

/** `raid`: an md array over several block devices (the spec's "multi-device"; not in DIB). */
export const raidSchema = z.strictObject({
  name: deviceMapperName.describe("Array name: /dev/md/<name>."),
  base: z.array(baseRef).min(2).describe("Member devices."),
  level: z.union([z.literal(0), z.literal(1), z.literal(5), z.literal(6), z.literal(10)]),
  metadata: z.enum(["1.2", "1.1", "1.0", "0.90"]).optional().describe("Superblock format; default 1.2."),
});
export type RaidConfig = z.infer<typeof raidSchema>;
