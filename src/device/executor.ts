/**
 * Device mode: the DIB phases that touch devices (`create`, `umount`, `cleanup`, `delete`, `writefstab`).
 * `create` runs the plan's steps in order, journalling every resource before taking it; on failure it
 * releases everything it took, in reverse, and re-raises the original error. `umount`, `cleanup` and
 * `delete` work from the journal alone, so they also work after a crash.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigText } from "../config/load.js";
import { type Params, stateDir } from "../config/params.js";
import { BlocksmithError, StateError, UnsupportedError } from "../core/errors.js";
import { requireTools } from "../core/runner.js";
import { checkDevice, readDeviceSize } from "../nodes/level0/device/device.js";
import { attachImage, createImage, detachLoop, removeImage } from "../nodes/level0/local-loop/device.js";
import { crypttabText } from "../nodes/level1/luks/crypttab.js";
import { closeLuks, formatLuks, luksProblems, openLuks } from "../nodes/level1/luks/device.js";
import {
  checkVolumeGroupNamesFree,
  createLogicalVolume,
  createPhysicalVolume,
  createVolumeGroup,
  releaseLogicalVolume,
  releaseVolumeGroup,
} from "../nodes/level1/lvm/device.js";
import { scanPartitions, writePartitionTable } from "../nodes/level1/partitioning/device.js";
import { createRaid, raidProblems, stopRaid } from "../nodes/level1/raid/device.js";
import { mountFilesystem, unmountFilesystem } from "../nodes/level3/mount/device.js";
import { fstabText } from "../nodes/level4/fstab/plan.js";
import { planLayout } from "../plan/planner.js";
import { emptyPlan, type Plan, type StepPlan } from "../plan/types.js";
import type { ReleaseMode, Resource } from "./journal.js";
import { replay } from "./journal.js";
import { DeviceSession, journalPath, runLogged, type SessionOptions } from "./session.js";

export { UnsupportedError };

/** Plan steps device mode can carry out; a plan with any other step is refused before anything starts. */
export const SUPPORTED_ACTIONS: ReadonlySet<string> = new Set([
  "create-image",
  "attach",
  "check-device",
  "write-partition-table",
  "rescan-partitions",
  "mdadm-create",
  "luksFormat",
  "luksOpen",
  "pvcreate",
  "vgcreate",
  "lvcreate",
  "mkfs",
  "mkdir",
  "mount",
  "write-fstab",
]);

/**
 * The plan for `create`: from config.json written by `init`, with the params' sizes and directories and
 * the real size of every `device` (read with blockdev). `wipeDevices` names the devices with `wipe: true`.
 */
export async function planForCreate(
  params: Params,
  options: SessionOptions,
): Promise<{ plan: Plan; wipeDevices: ReadonlySet<string> }> {
  const file = join(stateDir(params), "config.json");
  if (!existsSync(file))
    throw new StateError(`${file} does not exist; run \`blocksmith --params … init\` first`);
  const { model } = loadConfigText(readFileSync(file, "utf8"), file);
  const deviceSizes: Record<string, number> = {};
  const wipeDevices = new Set<string>();
  for (const node of model.nodes.values()) {
    if (node.kind !== "device") continue;
    const run = (argv: readonly string[], purpose: string) => runLogged(options, argv, purpose);
    deviceSizes[node.name] = await readDeviceSize(run, node.devicePath!);
    if (node.wipe) wipeDevices.add(node.name);
  }
  const plan = planLayout(model, {
    ...(params["image-size"] !== undefined ? { imageSize: params["image-size"] } : {}),
    ...(params["image-dir"] !== undefined ? { imageDir: params["image-dir"] } : {}),
    mountBase: params["mount-base"] ?? join(params["build-dir"], "mnt"),
    ...(Object.keys(deviceSizes).length > 0 ? { deviceSizes } : {}),
  });
  return { plan, wipeDevices };
}

function checkSupported(plan: Plan): void {
  const unsupported = plan.steps.filter((step) => !SUPPORTED_ACTIONS.has(step.action));
  if (unsupported.length > 0) {
    const kinds = [...new Set(unsupported.map((step) => `${step.action} (${step.node})`))];
    throw new UnsupportedError(
      `device mode in this version handles local_loop, device, partitioning, raid, luks, lvm, mkfs, mount and fstab; this config also needs: ${kinds.join(", ")}`,
    );
  }
}

/**
 * What would clash with the host or cannot work, found before anything is touched: VG, mapping and
 * array names the host already has, LUKS volumes without a readable key.
 */
async function checkLevel1Names(plan: Plan, options: SessionOptions): Promise<void> {
  const problems = [...plan.encrypted.flatMap(luksProblems), ...plan.raids.flatMap(raidProblems)];
  if (problems.length > 0) throw new UnsupportedError(problems.join("\n"));
  try {
    await checkVolumeGroupNamesFree(
      (argv, purpose) => runLogged(options, argv, purpose),
      plan.volumeGroups.map((vg) => vg.name),
    );
  } catch (error) {
    if (error instanceof BlocksmithError) throw error;
    throw new UnsupportedError((error as Error).message);
  }
}

/** Tools the release path may need besides the planned commands (the journal may need them later). */
function releaseTools(plan: Plan): string[] {
  return [
    ...(plan.volumeGroups.length > 0
      ? ["vgs", "lvs", "vgchange", "lvchange", "vgremove", "lvremove", "pvremove"]
      : []),
    ...(plan.raids.length > 0 ? ["mdadm"] : []),
    ...(plan.encrypted.length > 0 ? ["cryptsetup"] : []),
  ];
}

export async function runCreate(params: Params, options: SessionOptions): Promise<Plan> {
  // Root first: reading the size of a `device` (while planning) already needs it.
  if (process.getuid?.() !== 0)
    throw new UnsupportedError("create needs root (loop devices, mkfs on devices, mount); run it with sudo");
  const { plan, wipeDevices } = await planForCreate(params, options);
  checkSupported(plan);
  await requireTools([
    "losetup",
    "partx",
    "mount",
    "umount",
    "findmnt",
    "fstrim",
    ...releaseTools(plan),
    ...plan.steps.map((s) => s.argv[0]!).filter(Boolean),
  ]);
  await checkLevel1Names(plan, options);
  if (replay(journalPath(params)).length > 0)
    throw new StateError(
      "the journal still holds resources of an earlier run; run `delete` (or `cleanup`) first",
    );
  mkdirSync(stateDir(params), { recursive: true });
  const session = new DeviceSession(plan, params, options);
  try {
    for (const [index, step] of plan.steps.entries()) {
      if (options.failBeforeStep === index)
        throw new Error(`fault injected before step ${index} (${step.action} ${step.node})`);
      if (options.pauseBeforeStep === index) await pauseForever(options, index);
      options.log({
        event: "step",
        node: step.node,
        message: step.description,
        step: { index: index + 1, total: plan.steps.length },
      });
      await runStep(session, plan, step, wipeDevices);
    }
  } catch (error) {
    options.log({
      event: "warning",
      message: `create failed; releasing what it took: ${(error as Error).message}`,
    });
    await releaseAll(session, { keepImages: false, mode: "remove" });
    throw error;
  }
  writeState(session);
  return plan;
}

/** The kill-test hook: announce the pause, then keep the process alive until it is killed. */
function pauseForever(options: SessionOptions, index: number): Promise<never> {
  options.log({ event: "warning", message: `paused before step ${index} (test hook)` });
  return new Promise<never>(() => {
    setInterval(() => undefined, 60_000);
  });
}

async function runStep(
  session: DeviceSession,
  plan: Plan,
  step: StepPlan,
  wipeDevices: ReadonlySet<string>,
): Promise<void> {
  const disk = plan.disks.find((d) => d.name === step.node || d.partitioning === step.node);
  switch (step.action) {
    case "create-image":
      return createImage(session, disk!);
    case "attach":
      return attachImage(session, disk!);
    case "check-device":
      return checkDevice(session, disk!, { wipe: wipeDevices.has(disk!.name) });
    case "write-partition-table":
      return writePartitionTable(session, disk!);
    case "rescan-partitions":
      return scanPartitions(session, disk!);
    case "mdadm-create":
      return createRaid(
        session,
        plan.raids.find((r) => r.name === step.node)!,
        step.argv,
      );
    case "luksFormat":
      return formatLuks(
        session,
        plan.encrypted.find((e) => e.name === step.node)!,
        step.argv,
      );
    case "luksOpen":
      return openLuks(
        session,
        plan.encrypted.find((e) => e.name === step.node)!,
        step.argv,
      );
    case "pvcreate":
      return createPhysicalVolume(session, step.argv);
    case "vgcreate":
      return createVolumeGroup(
        session,
        plan.volumeGroups.find((v) => v.name === step.node)!,
        step.argv,
      );
    case "lvcreate":
      return createLogicalVolume(
        session,
        plan.logicalVolumes.find((l) => l.name === step.node)!,
        step.argv,
      );
    case "mkfs": {
      const fs = plan.filesystems.find((f) => f.name === step.node)!;
      session.devices.set(fs.name, session.devices.get(fs.base)!);
      const argv = session.resolve(step.argv);
      // FAT has a 32-bit volume id instead of a UUID and DIB passes none; with --seed we pass one so the
      // image is reproducible (the planned argv stays DIB's).
      if (
        (fs.type === "vfat" || fs.type === "fat") &&
        fs.uuid === undefined &&
        session.options.seed !== undefined
      )
        argv.splice(-1, 0, "-i", session.uuid(fs.name).slice(0, 8));
      await session.run(argv, step.description);
      return;
    }
    case "mkdir":
      mkdirSync(session.resolve(step.argv).at(-1)!, { recursive: true });
      return;
    case "mount": {
      const mount = plan.mounts.find((m) => m.name === step.node)!;
      const fs = plan.filesystems.find((f) => f.name === mount.base)!;
      const [, device, target] = session.resolve(step.argv);
      return mountFilesystem(session, mount.name, mount.mountPoint, device!, target!, fs.type);
    }
    case "write-fstab":
      return; // written by the writefstab phase
    default:
      throw new Error(`internal: unsupported step ${step.action}`);
  }
}

/** DIB's state.json keys, so scripts that read it keep working; plus what later phases need. */
function writeState(session: DeviceSession): void {
  const { plan } = session;
  const blockdev: Record<string, Record<string, string>> = {};
  for (const disk of plan.disks) {
    // An existing device has no image: it is the product itself.
    blockdev[disk.name] =
      disk.kind === "device"
        ? { device: session.devices.get(disk.name)! }
        : { device: session.devices.get(disk.name)!, image: disk.path };
    for (const partition of disk.partitions)
      if (partition.role !== "extended")
        blockdev[partition.name] = { device: session.devices.get(partition.name)! };
  }
  // Stacked devices in creation order, as DIB's lvm plugin records its LVs.
  for (const raid of plan.raids) blockdev[raid.name] = { device: raid.device };
  for (const volume of plan.encrypted) blockdev[volume.name] = { device: volume.device };
  for (const lv of plan.logicalVolumes) blockdev[lv.name] = { device: lv.device };
  const filesys = Object.fromEntries(
    plan.filesystems.map((fs) => [
      fs.name,
      {
        uuid: fs.uuid ?? session.uuid(fs.name),
        label: fs.label,
        fstype: fs.type,
        opts: fs.opts,
        device: session.devices.get(fs.base)!,
      },
    ]),
  );
  const mount = Object.fromEntries(
    plan.mounts.map((m) => [
      m.mountPoint,
      { name: m.name, base: m.base, path: join(session.mountBase, m.mountPoint) },
    ]),
  );
  const fstab = Object.fromEntries(
    plan.fstab.map((f) => [
      f.base,
      {
        name: f.name,
        base: f.base,
        options: f.options,
        "dump-freq": f.dumpFreq,
        "fsck-passno": f.fsckPassNo,
      },
    ]),
  );
  const state = {
    blockdev,
    filesys,
    mount,
    mount_order: plan.mounts.map((m) => m.mountPoint),
    fstab,
    blocksmith: { plan, luksUuids: Object.fromEntries(session.luksUuids) },
  };
  writeFileSync(join(stateDir(session.params), "state.json"), JSON.stringify(state));
}

interface BlocksmithState {
  plan: Plan;
  /** luks node name → LUKS UUID (older state files have none). */
  luksUuids?: Record<string, string>;
}

function readBlocksmithState(params: Params): BlocksmithState | undefined {
  const file = join(stateDir(params), "state.json");
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as { blocksmith?: BlocksmithState }).blocksmith;
}

function readPlanFromState(params: Params): Plan | undefined {
  return readBlocksmithState(params)?.plan;
}

function sessionFromJournal(params: Params, options: SessionOptions): DeviceSession {
  const plan = readPlanFromState(params) ?? emptyPlan();
  return new DeviceSession(plan, params, options);
}

/**
 * Releases every resource the journal holds, newest first; images too unless `keepImages`. `mode` says
 * whether VGs, LVs and md arrays are only deactivated (umount, cleanup) or removed (rollback, delete).
 */
async function releaseAll(
  session: DeviceSession,
  { keepImages, mode }: { keepImages: boolean; mode: ReleaseMode },
): Promise<void> {
  const held = session.journal.held().reverse();
  let firstError: unknown;
  for (const resource of held) {
    if (keepImages && resource.kind === "image-file") continue;
    try {
      await release(session, resource, mode);
      session.journal.release(resource.id);
      session.options.log({ event: "release", node: resource.node, message: `released ${resource.id}` });
    } catch (error) {
      // Keep going: release as much as possible, then report the first failure.
      firstError ??= error;
      session.options.log({
        event: "warning",
        message: `could not release ${resource.id}: ${(error as Error).message}`,
      });
    }
  }
  if (firstError !== undefined) throw firstError;
}

async function release(session: DeviceSession, resource: Resource, mode: ReleaseMode): Promise<void> {
  switch (resource.kind) {
    case "logical-volume":
      return releaseLogicalVolume(session, resource, mode);
    case "volume-group":
      return releaseVolumeGroup(session, resource, mode);
    case "luks":
      return closeLuks(session, resource, mode);
    case "md-array":
      return stopRaid(session, resource, mode);
    case "mount":
      return unmountFilesystem(session, resource);
    case "loop-device":
      return detachLoop(session, resource);
    case "image-file":
      return removeImage(resource);
    default:
      throw new Error(`releasing ${resource.kind} is not supported in this version`);
  }
}

/** DIB `umount`: unmount everything and detach the loop devices; the images stay for conversion. */
export async function runUmount(params: Params, options: SessionOptions): Promise<void> {
  if (!existsSync(journalPath(params))) return;
  await releaseAll(sessionFromJournal(params, options), { keepImages: true, mode: "deactivate" });
}

/** DIB `cleanup` (success path): release whatever is left but the images, then drop the state directory. */
export async function runCleanup(params: Params, options: SessionOptions): Promise<void> {
  if (existsSync(journalPath(params)))
    await releaseAll(sessionFromJournal(params, options), { keepImages: true, mode: "deactivate" });
  rmSync(stateDir(params), { recursive: true, force: true });
}

/** DIB `delete` (error path): release everything, images included, then drop the state directory. */
export async function runDelete(params: Params, options: SessionOptions): Promise<void> {
  if (existsSync(journalPath(params)))
    await releaseAll(sessionFromJournal(params, options), { keepImages: false, mode: "remove" });
  rmSync(stateDir(params), { recursive: true, force: true });
}

/**
 * DIB `writefstab`: `<build-dir>/built/etc/fstab` in mount order (an empty file when nothing is
 * mounted), and `crypttab` next to it when the image has LUKS volumes. Returns the files written.
 */
export function runWritefstab(params: Params): string[] {
  const state = readBlocksmithState(params);
  if (!state)
    throw new StateError(`${join(stateDir(params), "state.json")} does not exist; run \`create\` first`);
  const { plan } = state;
  const etc = join(params["build-dir"], "built", "etc");
  mkdirSync(etc, { recursive: true });
  const fstab = join(etc, "fstab");
  writeFileSync(fstab, fstabText(plan.fstab));
  if (plan.encrypted.length === 0) return [fstab];
  const crypttab = join(etc, "crypttab");
  const text = crypttabText(plan.encrypted, (volume) => {
    const uuid = state.luksUuids?.[volume];
    if (uuid === undefined)
      throw new StateError(`state.json has no LUKS UUID for "${volume}"; run \`create\` again`);
    return uuid;
  });
  writeFileSync(crypttab, text);
  return [fstab, crypttab];
}
