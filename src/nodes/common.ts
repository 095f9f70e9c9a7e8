/** Schema pieces shared by the node types. */
import { z } from "zod";
import { checkSizeSyntax, SIZE_HINT } from "../core/size.js";

/**
 * Node names are state keys and, for images, file names; DIB accepts anything (its own tests use
 * "Root Part"), so only what would break a path or a command line is refused.
 */
export const nodeName = z
  .string()
  .min(1)
  // Control characters are excluded with \p{Cc} so the pattern itself holds none.
  .regex(/^(?![-])[^/\p{Cc}]+$/u, {
    message: "a name must not contain '/' or control characters, nor start with '-'",
  })
  .describe("Unique node name; other entries refer to it in `base`.");

/** Names that become device-mapper or md names (VGs, LVs, LUKS mappings, arrays): lvm's alphabet. */
export const deviceMapperName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_+][A-Za-z0-9_.+-]*$/, {
    message:
      "this name becomes a /dev name: use letters, digits, '_', '.', '+' and '-' (not first: '.', '-')",
  })
  .describe("Unique node name; also its device name under /dev.");

export const baseRef = z.string().min(1).describe("Name of the node this one is built on.");

/** A DIB size: "3G", "550MiB", "1024", 4096 (YAML integer), and with `allowPercent` "50%". */
export function sizeSpec(allowPercent: boolean) {
  return z
    .union([z.string(), z.number().int().nonnegative()])
    .superRefine((value, ctx) => {
      const problem = checkSizeSyntax(value, allowPercent);
      if (problem)
        ctx.addIssue({
          code: "custom",
          message: `${problem}; ${SIZE_HINT}${allowPercent ? ' or "50%"' : ""}`,
        });
    })
    .describe(
      allowPercent
        ? "Size: number with unit (K/M/G/T powers of 1000, KiB/MiB/GiB/TiB powers of 1024) or N% of the remaining space."
        : "Size: number with unit (K/M/G/T powers of 1000, KiB/MiB/GiB/TiB powers of 1024).",
    );
}

export const sectorSize = z
  .union([z.literal(512), z.literal(4096)])
  .describe("Logical sector size in bytes used for all layout math (blocksmith extension; DIB assumes 512).");

export const optionsList = z.array(z.string()).describe("Extra command-line options, passed as given.");
