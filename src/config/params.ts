/**
 * The DIB params file (`--params FILE` or $DIB_BLOCK_DEVICE_PARAMS_YAML) that disk-image-create writes:
 * config, image-dir, image-size, root-fs-type, root-label, root-fs-opts, mount-base, build-dir.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ParamsError } from "../core/errors.js";
import { checkSizeSyntax } from "../core/size.js";
import { parseSource } from "../core/source.js";

const KNOWN_KEYS = [
  "config",
  "image-dir",
  "image-size",
  "root-fs-type",
  "root-label",
  "root-fs-opts",
  "mount-base",
  "build-dir",
];

export const paramsSchema = z.looseObject({
  config: z.string().min(1).optional(),
  "image-dir": z.string().min(1).optional(),
  "image-size": z
    .union([z.string(), z.number()])
    .optional()
    .refine((value) => value === undefined || checkSizeSyntax(value, false) === undefined, {
      message: "not a valid size",
    }),
  "root-fs-type": z.string().min(1).optional(),
  "root-label": z.string().nullable().optional(),
  "root-fs-opts": z.string().optional(),
  "mount-base": z.string().min(1).optional(),
  "build-dir": z.string().min(1),
});
export type Params = z.infer<typeof paramsSchema>;

export function readParams(file: string): { params: Params; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ParamsError(
      `cannot read params file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let data: unknown;
  try {
    data = parseSource(text, file).data;
  } catch (error) {
    throw new ParamsError(`params file ${file} is not valid YAML: ${(error as Error).message}`);
  }
  const result = paramsSchema.safeParse(data ?? {});
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new ParamsError(`params file ${file} is invalid:\n  ${issues.join("\n  ")}`);
  }
  const warnings = Object.keys(result.data)
    .filter((key) => !KNOWN_KEYS.includes(key))
    .map((key) => `params file ${file}: ignoring unknown key "${key}"`);
  return { params: result.data, warnings };
}

export function stateDir(params: Params): string {
  return join(params["build-dir"], "states", "block-device");
}
