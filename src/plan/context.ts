/** What node planners share while the plan is being built: sizes of block devices decided so far. */
import type { ConfigModel, ModelNode } from "../config/model.js";
import { LayoutError, LayoutProblem, type Problem } from "../core/errors.js";
import type { KeyPath } from "../core/source.js";
import { emptyPlan, type Plan } from "./types.js";

export interface PlanOptions {
  /** Default size of local_loop images without their own `size` (DIB params `image-size`, CLI `--size`). */
  imageSize?: string | number;
  /** Directory of images without their own `directory` (DIB params `image-dir`). */
  imageDir?: string;
  /** Where file systems are mounted during the build (DIB params `mount-base`). */
  mountBase?: string;
  /** Real sizes of `device` nodes, by node name (device mode reads them; offline planning uses `size`). */
  deviceSizes?: Record<string, number>;
}

export interface BlockDeviceInfo {
  sizeBytes: number;
  sectorSize: number;
  /** How device mode refers to it in argv: a placeholder like `{dev:root}` resolved at run time. */
  device: string;
  /** The kernel's I/O size hints (md arrays have them); lvm aligns the first extent to them. */
  ioHints?: { minimumIoBytes?: number; optimalIoBytes?: number };
}

export class PlanContext {
  readonly plan: Plan = emptyPlan();
  private readonly devices = new Map<string, BlockDeviceInfo>();
  readonly problems: Problem[] = [];

  constructor(
    readonly model: ConfigModel,
    readonly options: PlanOptions,
  ) {}

  setDevice(name: string, info: BlockDeviceInfo): void {
    this.devices.set(name, info);
  }

  /** Size etc. of a block device planned earlier (creation order guarantees parents come first). */
  device(name: string): BlockDeviceInfo | undefined {
    return this.devices.get(name);
  }

  node<K extends ModelNode["kind"]>(name: string, kind: K): Extract<ModelNode, { kind: K }> {
    const node = this.model.nodes.get(name);
    if (!node || node.kind !== kind) throw new Error(`internal: ${name} is not a ${kind}`);
    return node as Extract<ModelNode, { kind: K }>;
  }

  problem(path: KeyPath, message: string, hint?: string): void {
    this.problems.push({ message, ...(hint ? { hint } : {}), at: this.model.source.locate(path) });
  }

  /** Records a LayoutProblem from a pure layout function at the config path of the item it names. */
  layoutProblem(problem: LayoutProblem, itemPath: (index: number) => KeyPath, fallback: KeyPath): void {
    const base = problem.itemIndex !== undefined ? itemPath(problem.itemIndex) : fallback;
    this.problem(problem.key ? [...base, problem.key] : base, problem.message, problem.hint);
  }

  step(node: string, action: string, argv: string[], description: string): void {
    this.plan.steps.push({ node, action, argv, description });
  }

  finish(): Plan {
    if (this.problems.length > 0) throw new LayoutError(this.problems);
    return this.plan;
  }
}

export function devicePlaceholder(name: string): string {
  return `{dev:${name}}`;
}

/** Runs a pure layout computation, turning its LayoutProblem into a located problem. */
export function withLayout<T>(
  context: PlanContext,
  compute: () => T,
  itemPath: (index: number) => KeyPath,
  fallback: KeyPath,
): T | undefined {
  try {
    return compute();
  } catch (error) {
    if (error instanceof LayoutProblem) {
      context.layoutProblem(error, itemPath, fallback);
      return undefined;
    }
    throw error;
  }
}
