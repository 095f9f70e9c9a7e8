import { z } from "zod";
import { nodeName, sectorSize, sizeSpec } from "../../common.js";

/** `local_loop`: a sparse image file attached to a loop device (DIB level 0). */
export const localLoopSchema = z.strictObject({
  name: nodeName,
  size: sizeSpec(false)
    .optional()
    .describe("Image size; default: the params file's `image-size` or `--size`."),
  directory: z
    .string()
    .min(1)
    .optional()
    .describe("Directory of the image file; default: params `image-dir`."),
  "sector-size": sectorSize.optional(),
});
export type LocalLoopConfig = z.infer<typeof localLoopSchema>;
