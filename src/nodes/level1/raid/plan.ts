/** Planning md RAID: data offset and array size as mdadm --create makes them. */
import type { RaidNode } from "../../../config/model.js";
import { devicePlaceholder, type PlanContext, withLayout } from "../../../plan/context.js";
import { layoutRaid } from "./raid-layout.js";

export function planRaid(context: PlanContext, node: RaidNode): void {
  const members = node.bases.map((name) => context.device(name));
  if (members.some((member) => member === undefined)) return;
  const layout = withLayout(
    context,
    () =>
      layoutRaid({
        level: node.level,
        metadata: node.metadata,
        memberSizesBytes: members.map((m) => m!.sizeBytes),
      }),
    (index) => [...node.origin, "base", index],
    node.origin,
  );
  if (!layout) return;
  context.plan.raids.push({
    name: node.name,
    bases: node.bases,
    level: node.level,
    metadata: node.metadata,
    memberSizeBytes: layout.memberSizeBytes,
    dataOffsetBytes: layout.dataOffsetBytes,
    sizeBytes: layout.sizeBytes,
    device: `/dev/md/${node.name}`,
  });
  context.setDevice(node.name, {
    sizeBytes: layout.sizeBytes,
    sectorSize: members[0]!.sectorSize,
    device: devicePlaceholder(node.name),
  });
  const argv = [
    "mdadm",
    "--create",
    `/dev/md/${node.name}`,
    "--run",
    "--level",
    String(node.level),
    "--metadata",
    node.metadata,
    "--raid-devices",
    String(node.bases.length),
    ...members.map((m) => m!.device),
  ];
  context.step(
    node.name,
    "mdadm-create",
    argv,
    `create RAID${node.level} ${node.name} over ${node.bases.join(", ")}`,
  );
}
