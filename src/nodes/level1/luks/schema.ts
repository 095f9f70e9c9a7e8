import { z } from "zod";
import { baseRef, deviceMapperName } from "../../common.js";

/** `luks`: dm-crypt/LUKS encryption of a partition, LV or RAID (spec use case 5; not in DIB). */
export const luksSchema = z
  .strictObject({
    name: deviceMapperName.describe("Mapping name: the volume opens as /dev/mapper/<name>."),
    base: baseRef,
    type: z.enum(["luks1", "luks2"]).optional().describe("Default luks2; luks1 for GRUB-readable /boot."),
    cipher: z.string().min(1).optional().describe("Default aes-xts-plain64."),
    "key-size": z.number().int().positive().multipleOf(8).optional().describe("Bits; default 512."),
    pbkdf: z.enum(["argon2id", "argon2i", "pbkdf2"]).optional(),
    "iter-time": z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "Milliseconds the key derivation should take (cryptsetup --iter-time; default 2000). Unlocking costs the same: lower it for volumes a boot loader opens, or for throw-away test images.",
      ),
    "key-file": z.string().min(1).optional().describe("File holding the key; never copied into state."),
    "passphrase-file": z
      .string()
      .min(1)
      .optional()
      .describe("File holding a passphrase (trailing newline ignored)."),
    label: z.string().min(1).max(47).optional().describe("LUKS2 header label."),
  })
  .refine((value) => !(value["key-file"] !== undefined && value["passphrase-file"] !== undefined), {
    message: "give either key-file or passphrase-file, not both",
    path: ["passphrase-file"],
  });
export type LuksConfig = z.infer<typeof luksSchema>;
