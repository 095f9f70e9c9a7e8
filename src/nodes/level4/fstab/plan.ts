/** Planning /etc/fstab lines, in mount order, as DIB's `writefstab` formats them. */
import type { PlanContext } from "../../../plan/context.js";
import type { FstabPlan } from "../../../plan/types.js";

export function planFstab(context: PlanContext): void {
  const byMount = new Map<string, FstabPlan>();
  for (const node of context.model.nodes.values()) {
    if (node.kind !== "fstab") continue;
    const mount = context.node(node.base, "mount");
    const mkfs = context.node(mount.base, "mkfs");
    byMount.set(mount.name, {
      name: node.name,
      base: node.base,
      // DIB always has a label (it defaults to the node name), so it always writes LABEL=.
      spec: `LABEL=${mkfs.label}`,
      mountPoint: mount.mountPoint,
      fsType: mkfs.fsType,
      options: node.options,
      dumpFreq: node.dumpFreq,
      fsckPassNo: node.fsckPassNo,
    });
  }
  for (const name of context.model.mountOrder) {
    const entry = byMount.get(name);
    if (entry) context.plan.fstab.push(entry);
  }
  if (context.plan.fstab.length > 0)
    context.step(
      "fstab",
      "write-fstab",
      [],
      `write ${context.plan.fstab.length} fstab line(s) (on writefstab)`,
    );
}

export function formatFstabLine(entry: FstabPlan): string {
  return `${entry.spec} ${entry.mountPoint} ${entry.fsType} ${entry.options} ${entry.dumpFreq} ${entry.fsckPassNo}`;
}

/** The whole /etc/fstab, one line per entry (device mode's `writefstab` and offline builds write this). */
export function fstabText(entries: readonly FstabPlan[]): string {
  return entries.map((entry) => `${formatFstabLine(entry)}\n`).join("");
}
