/**
 * The planner: validated model → Plan, with every byte decided. Pure: no file system, no processes.
 * Nodes are planned in creation order, so every node finds its parents' sizes already decided.
 */
import type { ConfigModel } from "../config/model.js";
import { planDisk } from "../nodes/level0/plan.js";
import { planLuks } from "../nodes/level1/luks/plan.js";
import { planLvm } from "../nodes/level1/lvm/plan.js";
import { planPartitioning } from "../nodes/level1/partitioning/plan.js";
import { planRaid } from "../nodes/level1/raid/plan.js";
import { planMkfs } from "../nodes/level2/mkfs/plan.js";
import { planMount, planMountSteps } from "../nodes/level3/mount/plan.js";
import { planFstab } from "../nodes/level4/fstab/plan.js";
import { PlanContext, type PlanOptions } from "./context.js";
import type { Plan } from "./types.js";

export type { PlanOptions } from "./context.js";

/** Lays out the whole config. Throws LayoutError listing every size that does not work out. */
export function planLayout(model: ConfigModel, options: PlanOptions = {}): Plan {
  const context = new PlanContext(model, options);
  for (const name of model.order) {
    const node = model.nodes.get(name)!;
    switch (node.kind) {
      case "local_loop":
      case "device":
        planDisk(context, node);
        break;
      case "partitioning":
        planPartitioning(context, node);
        break;
      case "lvm":
        planLvm(context, node);
        break;
      case "luks":
        planLuks(context, node);
        break;
      case "raid":
        planRaid(context, node);
        break;
      case "mkfs":
        planMkfs(context, node);
        break;
      case "mount":
        planMount(context, node);
        break;
      // Partitions, PVs, VGs and LVs are planned by their partitioning/lvm entry; fstab lines below.
      default:
        break;
    }
  }
  context.plan.mounts.sort((a, b) => model.mountOrder.indexOf(a.name) - model.mountOrder.indexOf(b.name));
  planMountSteps(context);
  planFstab(context);
  return context.finish();
}
