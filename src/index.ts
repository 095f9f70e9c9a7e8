/** blocksmith library entry: the same operations as the CLI, as typed functions. */
export { loadConfig, loadConfigText, configToGraph, mergeRootFsParams } from "./config/load.js";
export type { LoadedConfig, LoadOptions, RootFsParams } from "./config/load.js";
export type { ConfigModel, ModelNode } from "./config/model.js";
export { graphToJson } from "./config/tree-to-graph.js";
export type { GraphEntry } from "./config/tree-to-graph.js";
export { readParams } from "./config/params.js";
export type { Params } from "./config/params.js";
export { planLayout as plan, planLayout } from "./plan/planner.js";
export type { PlanOptions } from "./plan/planner.js";
export type * from "./plan/types.js";
export { configJsonSchema } from "./schema.js";
export * from "./core/errors.js";
export { parseAbsoluteSize, parseRelativeSize, alignUp, alignDown, formatBytes } from "./core/size.js";
export { compareMountPoints } from "./config/mount-order.js";
