/** Loading a config: text → parsed document → canonical graph → validated model. */
import { readFileSync } from "node:fs";
import { ConfigError } from "../core/errors.js";
import { didYouMean } from "../core/did-you-mean.js";
import { parseSource, type SourceDocument } from "../core/source.js";
import { isNodeKind, NODE_TYPES } from "../nodes/registry.js";
import type { ConfigModel } from "./model.js";
import { type GraphEntry, graphToJson, TreeToGraph } from "./tree-to-graph.js";
import { validateGraph } from "./validate.js";

export interface RootFsParams {
  "root-fs-type"?: string;
  "root-fs-opts"?: string;
  /** `null` (present but empty) asks for DIB's default label. */
  "root-label"?: string | null;
}

export interface LoadOptions {
  /** DIB params whose root-fs settings are merged into the `mkfs_root` node, as `dib-block-device init` does. */
  rootFs?: RootFsParams;
}

export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError([
      {
        message: `cannot read config file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        hint: "check the path",
        at: { file, path: [] },
      },
    ]);
  }
}

export function configToGraph(source: SourceDocument): GraphEntry[] {
  return new TreeToGraph(source, isNodeKind, (key) => {
    return didYouMean(key, Object.keys(NODE_TYPES)) ?? `known plugins: ${Object.keys(NODE_TYPES).join(", ")}`;
  }).convert();
}

/**
 * DIB's `_merge_rootfs_params`: the params file's root-fs-type/-opts/-label fill in the `mkfs_root`
 * node where the config leaves them out. With `root-label` present but empty, the label defaults to
 * "cloudimg-rootfs", or "img-rootfs" for xfs (whose labels hold 12 bytes).
 */
export function mergeRootFsParams(entries: GraphEntry[], params: RootFsParams): void {
  for (const entry of entries) {
    if (entry.kind !== "mkfs" || entry.values.name !== "mkfs_root") continue;
    const values = entry.values;
    if (!("type" in values) && params["root-fs-type"] !== undefined) values.type = params["root-fs-type"];
    if (!("opts" in values) && params["root-fs-opts"] !== undefined) values.opts = params["root-fs-opts"];
    if (!("label" in values) && "root-label" in params) {
      const label = params["root-label"];
      if (label !== null && label !== undefined) values.label = label;
      else values.label = values.type === "xfs" ? "img-rootfs" : "cloudimg-rootfs";
    }
  }
}

export interface LoadedConfig {
  model: ConfigModel;
  /** The canonical graph, as DIB's `config_tree_to_graph` (after the root-fs merge) would print it. */
  graph: ReturnType<typeof graphToJson>;
}

export function loadConfigText(text: string, file: string, options: LoadOptions = {}): LoadedConfig {
  const source = parseSource(text, file);
  const entries = configToGraph(source);
  if (options.rootFs) mergeRootFsParams(entries, options.rootFs);
  const graph = graphToJson(entries);
  return { model: validateGraph(source, entries), graph };
}

/** Reads, converts and validates a config file. Throws ConfigError with every problem found. */
export function loadConfig(file: string, options: LoadOptions = {}): LoadedConfig {
  return loadConfigText(readConfigFile(file), file, options);
}
