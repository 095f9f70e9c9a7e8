/**
 * The DIB-compatible phases that need no root: `init` (config → config.json in the state directory)
 * and `getval` (answers for disk-image-create's scripts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, loadConfigText } from "../config/load.js";
import type { ConfigModel } from "../config/model.js";
import { type Params, stateDir } from "../config/params.js";
import { ParamsError, StateError, UsageError } from "../core/errors.js";
import { planLayout } from "../plan/planner.js";
import type { Plan } from "../plan/types.js";

export interface InitResult {
  configJson: string;
  /** Written when the params give an image size, so layout problems show up at init already. */
  planJson?: string;
  plan?: Plan;
}

export function runInit(params: Params): InitResult {
  if (params.config === undefined)
    throw new ParamsError("the params file needs `config` (the block-device YAML)");
  const rootFs = {
    ...(params["root-fs-type"] !== undefined ? { "root-fs-type": params["root-fs-type"] } : {}),
    ...(params["root-fs-opts"] !== undefined ? { "root-fs-opts": params["root-fs-opts"] } : {}),
    ...("root-label" in params ? { "root-label": params["root-label"] ?? null } : {}),
  };
  const { model, graph } = loadConfig(params.config, { rootFs });
  const dir = stateDir(params);
  mkdirSync(dir, { recursive: true });
  const configJson = join(dir, "config.json");
  writeFileSync(configJson, JSON.stringify(graph));
  if (params["image-size"] === undefined && !allSized(model)) return { configJson };
  // A `device` without `size:` is sized by create (blockdev); there is nothing to plan against yet.
  if ([...model.nodes.values()].some((node) => node.kind === "device" && node.size === undefined))
    return { configJson };
  const plan = planLayout(model, planOptions(params));
  const planJson = join(dir, "plan.json");
  writeFileSync(planJson, `${JSON.stringify(plan, null, 2)}\n`);
  return { configJson, planJson, plan };
}

function allSized(model: ConfigModel): boolean {
  return [...model.nodes.values()].every((node) => node.kind !== "local_loop" || node.size !== undefined);
}

export function planOptions(params: Params) {
  return {
    ...(params["image-size"] !== undefined ? { imageSize: params["image-size"] } : {}),
    ...(params["image-dir"] !== undefined ? { imageDir: params["image-dir"] } : {}),
    ...(params["mount-base"] !== undefined ? { mountBase: params["mount-base"] } : {}),
  };
}

export const GETVAL_SYMBOLS = [
  "root-label",
  "root-fstype",
  "mount-points",
  "image-path",
  "image-block-device",
  "image-block-devices",
] as const;

/** Reads config.json written by `init` and validates it again (it may have been edited). */
function loadInitialisedModel(params: Params): ConfigModel {
  const file = join(stateDir(params), "config.json");
  if (!existsSync(file))
    throw new StateError(`${file} does not exist; run \`blocksmith --params … init\` first`);
  return loadConfigText(readFileSync(file, "utf8"), file).model;
}

export function runGetval(params: Params, symbol: string, node?: string): string {
  switch (symbol) {
    case "root-label":
    case "root-fstype": {
      const model = loadInitialisedModel(params);
      const root = [...model.nodes.values()].find((n) => n.kind === "mount" && n.mountPoint === "/");
      if (!root || root.kind !== "mount") throw new StateError("the config mounts nothing at /");
      const mkfs = model.nodes.get(root.base);
      if (!mkfs || mkfs.kind !== "mkfs")
        throw new StateError(`the root mount's base "${root.base}" is not a mkfs entry`);
      return symbol === "root-label" ? mkfs.label : mkfs.fsType;
    }
    case "mount-points": {
      // DIB lists them in config order, joined by "|" (not a valid character in these paths).
      const model = loadInitialisedModel(params);
      return model.entries
        .filter((e) => e.kind === "mount")
        .map((e) => String(e.values.mount_point))
        .join("|");
    }
    case "image-path":
    case "image-block-device":
    case "image-block-devices": {
      const state = readState(params);
      const blockdev = (state.blockdev ?? {}) as Record<string, { device?: string; image?: string }>;
      if (symbol === "image-block-devices")
        return Object.entries(blockdev)
          .map(([name, value]) => ` [${name}]=${value.device ?? ""} `)
          .join("");
      // DIB answers for image0 only; blocksmith takes any level-0 node's name (default image0).
      const name = node ?? "image0";
      const entry = blockdev[name];
      if (!entry)
        throw new StateError(`state.json has no "${name}" entry; known: ${Object.keys(blockdev).join(", ")}`);
      if (symbol === "image-block-device") return String(entry.device);
      if (entry.image === undefined)
        throw new StateError(`"${name}" is an existing block device (${entry.device}), not an image file`);
      return entry.image;
    }
    default:
      throw new UsageError(`unknown getval symbol "${symbol}"; known: ${GETVAL_SYMBOLS.join(", ")}`);
  }
}

function readState(params: Params): Record<string, unknown> {
  const file = join(stateDir(params), "state.json");
  if (!existsSync(file)) throw new StateError(`${file} does not exist; run \`create\` first`);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new StateError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}
