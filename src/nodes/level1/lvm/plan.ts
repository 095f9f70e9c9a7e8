/** Planning LVM: PV extents, VG sizes and LV extents, and the pvcreate/vgcreate/lvcreate argv DIB runs. */
import type { LvmNode } from "../../../config/model.js";
import { LayoutProblem } from "../../../core/errors.js";
import { SizeSyntaxError } from "../../../core/size.js";
import { devicePlaceholder, type PlanContext } from "../../../plan/context.js";
import { layoutLvm, LvmLayoutProblem, parseExtentSizeOption } from "./lvm-layout.js";

export function planLvm(context: PlanContext, node: LvmNode): void {
  const pvs = node.pvs.map((name) => context.node(name, "pv"));
  const vgs = node.vgs.map((name) => context.node(name, "vg"));
  const lvs = node.lvs.map((name) => context.node(name, "lv"));
  if (pvs.some((pv) => context.device(pv.base) === undefined)) return; // a base failed to plan

  const extentSizes = new Map<string, number>();
  for (const vg of vgs) {
    try {
      extentSizes.set(vg.name, parseExtentSizeOption(vg.options));
    } catch (error) {
      if (!(error instanceof SizeSyntaxError)) throw error;
      context.problem(
        [...vg.origin, "options"],
        `vgcreate extent size: ${error.message}`,
        'e.g. ["-s", "4M"]',
      );
      return;
    }
  }
  let layout;
  try {
    layout = layoutLvm({
      vgs: vgs.map((vg) => ({
        name: vg.name,
        extentSizeBytes: extentSizes.get(vg.name)!,
        pvs: vg.pvs.map((pvName) => {
          const pv = context.node(pvName, "pv");
          const base = context.device(pv.base)!;
          return { name: pv.name, base: pv.base, sizeBytes: base.sizeBytes, ...base.ioHints };
        }),
      })),
      lvs: lvs.map((lv) => ({
        name: lv.name,
        vg: lv.vg,
        ...(lv.size !== undefined ? { size: lv.size } : {}),
        ...(lv.extents !== undefined ? { extents: lv.extents } : {}),
        type: lv.lvType,
        ...(lv.thinPool !== undefined ? { thinPool: lv.thinPool } : {}),
      })),
    });
  } catch (error) {
    if (error instanceof LvmLayoutProblem) {
      const item = context.model.nodes.get(error.itemName);
      context.problem(
        item ? (error.key ? [...item.origin, error.key] : item.origin) : node.origin,
        error.message,
        error.hint,
      );
      return;
    }
    if (error instanceof LayoutProblem) {
      context.problem(node.origin, error.message, error.hint);
      return;
    }
    throw error;
  }

  for (const pv of pvs) {
    const argv = ["pvcreate", context.device(pv.base)!.device, ...pv.options];
    context.step(pv.name, "pvcreate", argv, `make ${pv.base} an LVM physical volume`);
  }
  for (const vgLayout of layout.volumeGroups) {
    const vg = context.node(vgLayout.name, "vg");
    context.plan.volumeGroups.push({
      ...vgLayout,
      lvm: node.name,
      physicalVolumes: vgLayout.physicalVolumes.map((pv) => ({
        ...pv,
        device: context.device(pv.base)!.device,
      })),
    });
    const devices = vg.pvs.map((pvName) => context.device(context.node(pvName, "pv").base)!.device);
    context.step(
      vg.name,
      "vgcreate",
      ["vgcreate", vg.name, ...devices, ...vg.options],
      `create volume group ${vg.name}`,
    );
  }
  for (const lvLayout of layout.logicalVolumes) {
    const lv = context.node(lvLayout.name, "lv");
    const device = `/dev/${lv.vg}/${lv.name}`;
    context.plan.logicalVolumes.push({
      name: lvLayout.name,
      volumeGroup: lvLayout.volumeGroup,
      request: lvLayout.request,
      lvType: lvLayout.lvType,
      ...(lvLayout.thinPool !== undefined ? { thinPool: lvLayout.thinPool } : {}),
      extents: lvLayout.extents,
      sizeBytes: lvLayout.sizeBytes,
      device,
    });
    context.setDevice(lv.name, {
      sizeBytes: lvLayout.sizeBytes,
      sectorSize: 512,
      device: devicePlaceholder(lv.name),
    });
    context.step(
      lv.name,
      "lvcreate",
      lvcreateArgv(lv),
      `create ${lvLayout.lvType} LV ${lv.name}: ${lvLayout.extents} extents`,
    );
  }
}

/** DIB's `lvcreate --name N -L SIZE | -l EXTENTS [options] VG`, plus our thin-pool/thin types. */
function lvcreateArgv(lv: {
  name: string;
  vg: string;
  size?: string;
  extents?: string;
  options: string[];
  lvType: string;
  thinPool?: string;
}): string[] {
  const argv = ["lvcreate", "--name", lv.name];
  if (lv.lvType === "thin")
    return [...argv, "-V", lv.size!, "--thin", `${lv.vg}/${lv.thinPool!}`, ...lv.options];
  if (lv.lvType === "thin-pool") argv.push("--type", "thin-pool");
  if (lv.size !== undefined) argv.push("-L", lv.size);
  else if (lv.extents !== undefined) argv.push("-l", lv.extents);
  return [...argv, ...lv.options, lv.vg];
}
