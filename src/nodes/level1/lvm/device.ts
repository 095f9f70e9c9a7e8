/**
 * Device mode for `lvm`: pvcreate, vgcreate and lvcreate as planned, each lvm command confined to the
 * devices of this build so the host's own volume groups are neither seen nor touched; from the journal,
 * deactivation (umount) or removal (rollback, delete).
 */
import { existsSync } from "node:fs";
import { CommandError } from "../../../core/runner.js";
import type { DeviceSession } from "../../../device/session.js";
import type { LogicalVolumePlan, VolumeGroupPlan } from "../../../plan/types.js";
import type { ReleaseMode, Resource } from "../../../device/journal.js";

/**
 * Settings every lvm command of a build gets on top of `--devices`. The host's lvm.conf may set a system
 * ID source (the image's VG would then be foreign on the machine that boots it) and by default keeps
 * metadata backups and archives in /etc/lvm for every VG it changes (the image's VGs are not the
 * host's business).
 */
export const LVM_PRIVATE_CONFIG = 'global { system_id_source="none" } backup { backup=0 archive=0 }';

/**
 * The options that confine an lvm command to `devices`: `--devices` (lvm2 ≥ 2.03.12) makes every other
 * device, and the host's devices file, invisible to it.
 */
export function lvmIsolationOptions(devices: readonly string[]): string[] {
  if (devices.length === 0) throw new Error("internal: an lvm command needs the devices it may use");
  const bad = devices.find((device) => device.includes(",") || device.trim() !== device);
  if (bad !== undefined) throw new Error(`lvm --devices cannot name ${JSON.stringify(bad)} (comma or blank)`);
  return ["--devices", devices.join(","), "--config", LVM_PRIVATE_CONFIG];
}

/** `argv` (an lvm command) with the isolation options right after the command name. */
export function isolatedLvmArgv(argv: readonly string[], devices: readonly string[]): string[] {
  return [argv[0]!, ...lvmIsolationOptions(devices), ...argv.slice(1)];
}

/** Names from `vgs --reportformat json` output. */
export function parseVgNames(json: string): string[] {
  if (json.trim() === "") return [];
  const report = JSON.parse(json) as { report?: { vg?: { vg_name: string }[] }[] };
  return (report.report ?? []).flatMap((part) => (part.vg ?? []).map((vg) => vg.vg_name));
}

/**
 * Refuses volume group names the host already has (two VGs of one name make lvm refuse both, and
 * /dev/<vg> would be ambiguous). Uses the host's own lvm view on purpose: that is what would clash.
 */
export async function checkVolumeGroupNamesFree(
  run: (argv: readonly string[], purpose: string) => Promise<{ stdout: string }>,
  names: readonly string[],
): Promise<void> {
  if (names.length === 0) return;
  const { stdout } = await run(
    ["vgs", "--reportformat", "json", "--options", "vg_name"],
    "list the host's volume groups",
  );
  const hostVgs = new Set(parseVgNames(stdout));
  for (const name of names) {
    if (hostVgs.has(name) || existsSync(`/dev/${name}`))
      throw new Error(
        `a volume group "${name}" already exists on this host (vgs or /dev/${name}); ` +
          "rename the VG in the config or remove the host's VG (vgchange -an, then detach its devices)",
      );
  }
}

/** The devices of a VG's physical volumes, as this session knows them. */
export function volumeGroupDevices(session: DeviceSession, vg: VolumeGroupPlan): string[] {
  return vg.physicalVolumes.map((pv) => {
    const device = session.devices.get(pv.base);
    if (device === undefined) throw new Error(`internal: no device for ${pv.base} yet`);
    return device;
  });
}

export async function createPhysicalVolume(session: DeviceSession, argv: readonly string[]): Promise<void> {
  const resolved = session.resolve(argv);
  await session.run(isolatedLvmArgv(resolved, [resolved[1]!]), `make ${resolved[1]} an LVM physical volume`);
}

export async function createVolumeGroup(
  session: DeviceSession,
  vg: VolumeGroupPlan,
  argv: readonly string[],
): Promise<void> {
  const devices = volumeGroupDevices(session, vg);
  session.journal.take({
    id: `volume-group:${vg.name}`,
    kind: "volume-group",
    node: vg.name,
    detail: { vg: vg.name, devices: devices.join(",") },
  });
  await session.run(isolatedLvmArgv(session.resolve(argv), devices), `create volume group ${vg.name}`);
}

export async function createLogicalVolume(
  session: DeviceSession,
  lv: LogicalVolumePlan,
  argv: readonly string[],
): Promise<void> {
  const vg = session.plan.volumeGroups.find((v) => v.name === lv.volumeGroup)!;
  const devices = volumeGroupDevices(session, vg);
  session.journal.take({
    id: `logical-volume:${lv.volumeGroup}/${lv.name}`,
    kind: "logical-volume",
    node: lv.name,
    detail: { vg: lv.volumeGroup, lv: lv.name, devices: devices.join(",") },
  });
  await session.run(
    isolatedLvmArgv(session.resolve(argv), devices),
    `create LV ${lv.volumeGroup}/${lv.name}`,
  );
  // A thin pool is no block device for others to use: udev drops its /dev/<vg>/<pool> link once thin
  // LVs use it (seen in the VM). Others: lvcreate waits for udev (or makes the node without udev).
  if (lv.lvType === "thin-pool") return;
  if (!existsSync(lv.device)) throw new Error(`lvcreate succeeded but ${lv.device} does not exist`);
  session.devices.set(lv.name, lv.device);
}

/** Runs a release command; false when lvm says the VG or LV is not there (exit 5: a crash came first). */
async function runUnlessMissing(session: DeviceSession, argv: string[], purpose: string): Promise<boolean> {
  try {
    await session.run(argv, purpose);
    return true;
  } catch (error) {
    if (error instanceof CommandError && error.commandExitCode === 5 && /not found/i.test(error.stderr))
      return false;
    throw error;
  }
}

/** The journalled devices that still exist: lvm refuses a missing `--devices` entry. */
function presentDevices(resource: Resource): string[] {
  return resource.detail.devices!.split(",").filter((device) => existsSync(device));
}

/**
 * umount: deactivate (the LV stays in the image); rollback/delete: remove. While its VG is still held
 * (always, unless the journal was edited) the VG's release, which comes next, does this for every LV at
 * once; each lvm command costs a device scan, so the LV's own release is then a no-op.
 */
export async function releaseLogicalVolume(
  session: DeviceSession,
  resource: Resource,
  mode: ReleaseMode,
): Promise<void> {
  const { vg, lv } = resource.detail as { vg: string; lv: string };
  if (session.journal.held().some((held) => held.id === `volume-group:${vg}`)) return;
  const present = presentDevices(resource);
  if (present.length === 0) return;
  const isolation = lvmIsolationOptions(present);
  const argv =
    mode === "deactivate"
      ? ["lvchange", ...isolation, "--activate", "n", `${vg}/${lv}`]
      : ["lvremove", ...isolation, "--force", `${vg}/${lv}`];
  await runUnlessMissing(session, argv, `${mode} ${vg}/${lv}`);
}

/** umount: `vgchange -an` (always naming the VG); rollback/delete: also vgremove and pvremove. */
export async function releaseVolumeGroup(
  session: DeviceSession,
  resource: Resource,
  mode: ReleaseMode,
): Promise<void> {
  const vg = resource.detail.vg!;
  const present = presentDevices(resource);
  if (present.length === 0) return;
  const isolation = lvmIsolationOptions(present);
  const deactivate = ["vgchange", ...isolation, "--activate", "n", vg];
  if (!(await runUnlessMissing(session, deactivate, `deactivate volume group ${vg}`))) return;
  if (mode === "deactivate") return;
  await session.run(["vgremove", ...isolation, "--force", "--force", vg], `remove volume group ${vg}`);
  await session.run(
    ["pvremove", ...isolation, "--force", "--force", "--yes", ...present],
    `remove the LVM labels of ${vg}`,
  );
}
