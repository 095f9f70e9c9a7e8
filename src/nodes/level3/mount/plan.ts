/** Planning mounts: mount order and the directories under mount-base. */
import { join } from "node:path";
import type { MountNode } from "../../../config/model.js";
import type { PlanContext } from "../../../plan/context.js";

export function planMount(context: PlanContext, node: MountNode): void {
  context.plan.mounts.push({ name: node.name, base: node.base, mountPoint: node.mountPoint });
}

/** Mount steps in mount order (parents first), after everything else is created. */
export function planMountSteps(context: PlanContext): void {
  const mountBase = context.options.mountBase ?? "{mount-base}";
  for (const name of context.model.mountOrder) {
    const node = context.node(name, "mount");
    const mkfs = context.node(node.base, "mkfs");
    const target = join(mountBase, node.mountPoint);
    context.step(name, "mkdir", ["mkdir", "-p", target], `create mount point ${target}`);
    context.step(
      name,
      "mount",
      ["mount", `{dev:${mkfs.base}}`, target],
      `mount ${mkfs.label} on ${node.mountPoint}`,
    );
  }
}
