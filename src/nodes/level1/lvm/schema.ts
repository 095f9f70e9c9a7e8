import { z } from "zod";
import { SizeSyntaxError } from "../../../core/size.js";
import { baseRef, deviceMapperName, nodeName, optionsList } from "../../common.js";
import { LVM_SIZE_HINT, parseLvmSize } from "./lvm-layout.js";

const lvmSize = z
  .union([z.string(), z.number().positive()])
  .superRefine((value, ctx) => {
    try {
      parseLvmSize(String(value));
    } catch (error) {
      if (!(error instanceof SizeSyntaxError)) throw error;
      ctx.addIssue({ code: "custom", message: `${error.message}; ${LVM_SIZE_HINT}` });
    }
  })
  .describe(
    "lvcreate -L size (DIB passes it as written): number with unit b/s/k/m/g/t/p/e, powers of 1024, default m.",
  );

export const physicalVolumeSchema = z.strictObject({
  name: nodeName,
  base: baseRef,
  options: optionsList.optional(),
});

export const volumeGroupSchema = z.strictObject({
  name: deviceMapperName,
  base: z.array(baseRef).min(1).describe("Names of the PVs (from `pvs`) this VG spans."),
  options: optionsList.optional(),
});

export const logicalVolumeSchema = z.strictObject({
  name: deviceMapperName,
  base: baseRef.describe("Name of the VG."),
  size: lvmSize.optional(),
  extents: z
    .union([z.string().regex(/^\d+(%(VG|FREE|PVS))?$/), z.number().int().positive()])
    .optional()
    .describe("lvcreate -l: extents, or N%VG / N%FREE / N%PVS."),
  options: optionsList.optional(),
  type: z
    .enum(["linear", "thin-pool", "thin"])
    .optional()
    .describe("blocksmith extension: LV type; `thin` LVs take `size` as virtual size from `thin-pool`."),
  "thin-pool": deviceMapperName.optional().describe("For `type: thin`: the thin-pool LV to allocate from."),
});

/** `lvm`: physical volumes, volume groups and logical volumes (DIB level 1). */
export const lvmSchema = z.strictObject({
  name: nodeName,
  base: z
    .union([baseRef, z.array(baseRef)])
    .optional()
    .describe("Informational; PVs name their own bases."),
  pvs: z.array(physicalVolumeSchema).min(1),
  vgs: z.array(volumeGroupSchema).min(1),
  lvs: z.array(logicalVolumeSchema).min(1),
});
export type LvmConfig = z.infer<typeof lvmSchema>;
export type LogicalVolumeConfig = z.infer<typeof logicalVolumeSchema>;
