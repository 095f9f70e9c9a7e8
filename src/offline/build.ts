/**
 * Offline mode: `blocksmith build` writes the whole image into one file as an ordinary user — no root,
 * no loop device, no device-mapper. The partition table comes from blocksmith's own writers (the same
 * bytes device mode writes), file systems are made by the real mkfs tools at their offsets, each
 * populated from its subtree of --root, and the image appears under its name only when complete.
 */
import { availableParallelism, hostname } from "node:os";
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { loadConfig } from "../config/load.js";
import type { ConfigModel } from "../config/model.js";
import { UnsupportedError, UsageError } from "../core/errors.js";
import { requireTools, type Runner } from "../core/runner.js";
import type { DeviceEvent } from "../device/session.js";
import { runLogged } from "../device/session.js";
import { applySectorWrites } from "../formats/apply.js";
import { setExtInodeTimes } from "../formats/ext4-inode-times.js";
import { fileByteAccess } from "../formats/byte-access.js";
import { clampFatTimestamps } from "../formats/fat-timestamps.js";
import { writeGpt } from "../formats/gpt.js";
import { identifierSource, purposes, type IdentifierSource } from "../formats/identifiers.js";
import { writeMbr } from "../formats/mbr.js";
import {
  EXT_TYPES,
  FAT_TYPES,
  offlineMkfs,
  offlineTools,
  type OfflineCommand,
} from "../nodes/level2/mkfs/offline.js";
import { checkOfflineLuks, formatLuksHeader, type FormattedLuks } from "../nodes/level1/luks/offline.js";
import { checkOfflineLvm, layoutOfflineLvm } from "../nodes/level1/lvm/offline.js";
import { planLayout } from "../plan/planner.js";
import type { DiskPlan, EncryptedPlan, FilesystemPlan, Plan } from "../plan/types.js";
import { bmapXml, blockRanges, checksumRanges } from "./bmap.js";
import { copyRanges, copyRangesToPieces, dataRanges } from "./copy-ranges.js";
import type { Owner } from "./namespace.js";
import { makePopulated } from "./populated-mkfs.js";
import { planPopulation, type Population } from "./populate.js";
import { writeEncryptedVolume } from "./encrypted.js";
import { locationOf, OpenFiles, piecesOf, placementOf, type DeviceMap, type Placement } from "./placement.js";
import { startWriteback } from "./writeback.js";

export interface BuildOptions {
  config: string;
  output: string;
  size?: string;
  /** The future root file system; each mount point's subtree goes into its file system. */
  root?: string;
  seed?: string;
  format: "raw" | "qcow2";
  bmap: boolean;
  force: boolean;
  owner: Owner;
  /** SOURCE_DATE_EPOCH: every time blocksmith and the tools write is this (or clamped to it). */
  epochSeconds?: number;
  log: (event: DeviceEvent) => void;
}

export interface BuildResult {
  output: string;
  bmap?: string;
  plan: Plan;
}

/** Refuses what offline mode cannot build yet, before anything is written. */
export function checkOfflineSupport(model: ConfigModel, plan: Plan): DiskPlan {
  const layers = plan.raids.map((raid) => `md RAID "${raid.name}"`);
  if (layers.length > 0)
    throw new UnsupportedError(
      `offline builds do not make md RAID layers (the kernel's md metadata) yet; this config has ${layers.join(", ")}.` +
        ` Build it in device mode (blocksmith --params FILE create, as root)`,
    );
  if (plan.volumeGroups.length > 0) checkOfflineLvm(model, plan);
  if (plan.encrypted.length > 0) checkOfflineLuks(plan);
  if (plan.disks.length !== 1 || plan.disks[0]!.kind !== "local_loop")
    throw new UnsupportedError(
      `an offline build writes one image file: the config needs exactly one local_loop and no \`device\`` +
        ` (it has ${plan.disks.map((d) => `${d.kind} "${d.name}"`).join(", ") || "none"})`,
    );
  return plan.disks[0]!;
}

export async function runBuild(options: BuildOptions): Promise<BuildResult> {
  if (options.bmap && options.format !== "raw")
    throw new UsageError("--bmap maps the blocks of a raw image; it cannot go with --format qcow2");
  const output = resolve(options.output);
  const root = options.root !== undefined ? resolve(options.root) : null;
  if (root !== null && !statSync(root, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`--root ${options.root}: not a directory`);
  if (!statSync(dirname(output), { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`-o ${options.output}: directory ${dirname(output)} does not exist`);
  if (existsSync(output) && !options.force)
    throw new UsageError(`${options.output} exists; pass --force to replace it`);

  const { model } = loadConfig(options.config);
  const plan = planLayout(model, {
    ...(options.size !== undefined ? { imageSize: options.size } : {}),
    imageDir: dirname(output),
    mountBase: "/",
  });
  const disk = checkOfflineSupport(model, plan);
  const ids = identifierSource(options.seed);
  // Known before anything is made: crypttab, written into the root file system, names them.
  const luksUuids = new Map(
    plan.encrypted.map((volume) => [volume.name, ids.uuid(purposes.luks(volume.name))]),
  );
  const populations = new Map(planPopulation(plan, root, luksUuids).map((p) => [p.filesystem, p]));
  const unreproducible = plan.filesystems.filter((fs) => fs.type === "btrfs" || fs.type === "xfs");
  if (options.seed !== undefined && unreproducible.length > 0)
    options.log({
      event: "warning",
      message: `${unreproducible.map((fs) => `${fs.type} "${fs.name}"`).join(", ")} will not be byte-reproducible: btrfs-progs and xfsprogs stamp the current time and random internal ids`,
    });
  if (options.seed !== undefined && plan.encrypted.length > 0)
    options.log({
      event: "warning",
      message: `${plan.encrypted.map((volume) => `LUKS "${volume.name}"`).join(", ")} will not be byte-reproducible: its volume key and salts are random, as they must be (the LUKS UUID is derived from the seed)`,
    });
  const needsNamespace = [...populations.keys()].some((name) => {
    const type = plan.filesystems.find((fs) => fs.name === name)?.type;
    return type !== "swap";
  });
  await requireTools([
    ...plan.filesystems.flatMap((fs) => offlineTools(fs.type, populations.has(fs.name))),
    ...(needsNamespace ? ["unshare", "nsenter"] : []),
    ...(plan.encrypted.length > 0 ? ["cryptsetup"] : []),
    ...(options.format === "qcow2" ? ["qemu-img"] : []),
    ...(options.bmap ? ["xfs_io"] : []),
  ]);

  const steps =
    plan.filesystems.length +
    2 * plan.encrypted.length +
    2 +
    (plan.volumeGroups.length > 0 ? 1 : 0) +
    (options.format === "qcow2" ? 1 : 0) +
    (options.bmap ? 1 : 0);
  let stepIndex = 0;
  const step = (node: string, message: string) =>
    options.log({ event: "step", node, message, step: { index: (stepIndex += 1), total: steps } });
  const run: Runner = (argv, purpose, extra) => runLogged({ log: options.log }, argv, purpose, extra);

  // Everything is made next to the output (same file system: sparse copies, an atomic rename).
  const work = mkdtempSync(join(dirname(output), `.${basename(output)}.blocksmith-`));
  const rawFile = join(work, "image.raw");
  let finished = false;
  try {
    step(disk.name, `create sparse image of ${disk.sizeBytes} bytes`);
    const fd = openSync(rawFile, "wx", 0o644);
    try {
      ftruncateSync(fd, disk.sizeBytes);
      if (disk.label !== null) applySectorWrites(fd, tableWrites(disk, ids));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const context: MakeContext = {
      ids,
      run,
      work,
      owner: options.owner,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.epochSeconds !== undefined ? { epochSeconds: options.epochSeconds } : {}),
    };
    const lanes = Math.max(1, Math.min(2, availableParallelism()));

    // A raw image goes to disk while the tools run; a qcow2 build's raw file is scratch and never needs to.
    const writeback = options.format === "raw" ? await startWriteback(rawFile) : undefined;
    try {
      // LUKS headers first: an opened volume's sector size decides the block size of what goes on it.
      const headers = new Map<string, FormattedLuks & { headerFile: string }>();
      await inParallel(
        plan.encrypted.map((volume) => async () => {
          step(volume.name, `format ${volume.luksType} on ${volume.base}`);
          const headerFile = join(work, `${volume.name}.luks`);
          createSparseFile(headerFile, volume.baseSizeBytes);
          const formatted = await formatLuksHeader(
            run,
            plan,
            volume,
            headerFile,
            luksUuids.get(volume.name)!,
          );
          if (formatted.payloadOffsetBytes !== volume.payloadOffsetBytes)
            throw new Error(
              `internal: cryptsetup put the payload of ${volume.name} at ${formatted.payloadOffsetBytes}, the plan at ${volume.payloadOffsetBytes}`,
            );
          createSparseFile(plainFileOf(work, volume.name), volume.sizeBytes);
          headers.set(volume.name, { ...formatted, headerFile });
        }),
        lanes,
      );
      const map: DeviceMap = {
        disk,
        plan,
        imageFile: rawFile,
        luks: new Map(
          [...headers].map(([name, header]) => [
            name,
            { plainFile: plainFileOf(work, name), sectorBytes: header.cipher.sectorBytes },
          ]),
        ),
      };
      if (plan.volumeGroups.length > 0) {
        const lvm = layoutOfflineLvm({
          plan,
          locate: (base) => locationOf(map, base),
          ids,
          creationTime: options.epochSeconds ?? Math.floor(Date.now() / 1000),
          // lvm records the host that made an LV; a seeded build must not depend on the machine.
          creationHost: options.seed !== undefined ? "blocksmith" : hostname(),
          description: "Written by blocksmith build",
        });
        step(disk.name, `write LVM metadata of ${lvm.volumeGroups.map((vg) => vg.name).join(", ")}`);
        await withFiles((files) => {
          for (const { file, write } of lvm.writes) applySectorWrites(files.fd(file), [write]);
        });
        map.lvm = lvm;
      }

      await inParallel(
        plan.filesystems.map((fs) => async () => {
          const population = populations.get(fs.name);
          step(
            fs.name,
            `make ${fs.type} "${fs.label}" on ${fs.base}` +
              (population
                ? ` for ${population.mountPoint}${population.source ? ` from ${population.source}` : ""}`
                : ""),
          );
          await makeFilesystem(placementOf(map, fs.base), fs, population, context);
        }),
        lanes,
      );

      // Innermost first: a volume whose base lies in another's plain file must be in it before that
      // one is encrypted.
      for (const volume of byNestingDepth(map, plan.encrypted)) {
        step(volume.name, `encrypt ${volume.name} onto ${volume.base}`);
        const header = headers.get(volume.name)!;
        const used = [
          ...plan.filesystems.map((fs) => fs.base),
          ...plan.volumeGroups.flatMap((vg) => vg.physicalVolumes.map((pv) => pv.base)),
          ...plan.encrypted.map((other) => other.base),
        ].includes(volume.name);
        await withFiles((files) =>
          writeEncryptedVolume(run, files, {
            headerFile: header.headerFile,
            payloadOffsetBytes: header.payloadOffsetBytes,
            cipher: header.cipher,
            ...(used ? { plainFile: plainFileOf(work, volume.name) } : {}),
            base: placementOf(map, volume.base),
          }),
        );
        rmSync(header.headerFile, { force: true });
        rmSync(plainFileOf(work, volume.name), { force: true });
      }
    } catch (error) {
      // The tool's failure is the story; a sync error behind it would only hide it.
      await writeback?.stop().catch(() => undefined);
      throw error;
    }
    await writeback?.stop();

    let product = rawFile;
    if (options.format === "qcow2") {
      step(disk.name, "convert to qcow2");
      product = join(work, "image.qcow2");
      await run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", rawFile, product],
        "convert the image to qcow2",
      );
    }
    let bmapFile: string | undefined;
    if (options.bmap) {
      step(disk.name, "write the block map");
      const ranges = await dataRanges(run, rawFile);
      const blocks = blockRanges(ranges, disk.sizeBytes);
      bmapFile = join(work, "image.bmap");
      writeFileSync(bmapFile, bmapXml(disk.sizeBytes, checksumRanges(rawFile, blocks, disk.sizeBytes)));
    }
    step(disk.name, `write ${output}`);
    syncFile(product);
    renameSync(product, output);
    let bmapOutput: string | undefined;
    if (bmapFile !== undefined) {
      bmapOutput = `${output}.bmap`;
      syncFile(bmapFile);
      renameSync(bmapFile, bmapOutput);
    }
    syncFile(dirname(output));
    finished = true;
    return { output, ...(bmapOutput !== undefined ? { bmap: bmapOutput } : {}), plan };
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!finished)
      options.log({ event: "warning", message: `build failed; nothing was written to ${output}` });
  }
}

function tableWrites(disk: DiskPlan, ids: IdentifierSource) {
  return disk.label === "mbr"
    ? writeMbr(disk, { diskSignature: ids.mbrSignature(purposes.mbrSignature(disk.name)) })
    : writeGpt(disk, {
        diskGuid: ids.uuid(purposes.gptDisk(disk.name)),
        partitionGuids: disk.partitions.map((p) => ids.uuid(purposes.gptPartition(disk.name, p.name))),
      });
}

interface MakeContext {
  ids: IdentifierSource;
  run: Runner;
  work: string;
  owner: Owner;
  seed?: string;
  epochSeconds?: number;
}

async function makeFilesystem(
  target: Placement,
  fs: FilesystemPlan,
  population: Population | undefined,
  context: MakeContext,
): Promise<void> {
  const { file: image, offsetBytes, sizeBytes, startSector, pieces, logicalSectorBytes } = target;
  if (pieces !== undefined) {
    // An LV in several pieces: the file system is made whole in a file of its own, then each data range
    // goes to the piece that holds it.
    const lvFile = join(context.work, `${fs.name}.lv`);
    createSparseFile(lvFile, sizeBytes);
    const whole = {
      file: lvFile,
      offsetBytes: 0,
      sizeBytes,
      startSector,
      ...(logicalSectorBytes !== undefined ? { logicalSectorBytes } : {}),
    };
    await makeFilesystem(whole, fs, population, context);
    const ranges = await dataRanges(context.run, lvFile);
    await withFiles((files) => copyRangesToPieces(lvFile, ranges, files, pieces));
    rmSync(lvFile, { force: true });
    return;
  }
  // The same derivation as device mode, so one seed gives the same UUIDs in both modes.
  const uuid = fs.uuid ?? context.ids.uuid(`filesystem:${fs.name}`);
  const populated = population !== undefined && fs.type !== "swap";
  const work = offlineMkfs({
    fs,
    image,
    offsetBytes,
    sizeBytes,
    startSector,
    uuid,
    ...(context.seed !== undefined ? { hashSeed: context.ids.uuid(`ext-hash-seed:${fs.name}`) } : {}),
    ...(context.epochSeconds !== undefined ? { epochSeconds: context.epochSeconds } : {}),
    populated,
    tempFile: join(context.work, `${fs.name}.${fs.type}`),
    ...(logicalSectorBytes !== undefined ? { logicalSectorBytes } : {}),
  });
  if (work.kind === "header") {
    await withFiles((files) => applySectorWrites(files.fd(image), work.writes));
    return;
  }
  if (work.kind === "temp-file") createSparseFile(work.file, sizeBytes);
  await runCommands(work.commands, populated ? population : undefined, fs.name, context);
  if (work.kind === "temp-file") {
    const ranges = await dataRanges(context.run, work.file);
    await withFiles((files) => copyRanges(work.file, ranges, files.fd(image), offsetBytes));
    rmSync(work.file, { force: true });
  }
  const epoch = context.epochSeconds;
  if (epoch !== undefined && (EXT_TYPES.has(fs.type) || FAT_TYPES.has(fs.type)))
    await withFiles((files) => {
      // mke2fs -d copies ctime and atime from the tree; mtools stamps "now": neither is the image's content.
      const access = fileByteAccess(files.fd(image), offsetBytes);
      if (EXT_TYPES.has(fs.type)) setExtInodeTimes(access, epoch);
      else clampFatTimestamps(access, epoch);
    });
}

async function runCommands(
  commands: OfflineCommand[],
  population: Population | undefined,
  name: string,
  context: MakeContext,
): Promise<void> {
  if (population === undefined) {
    for (const command of commands)
      await context.run(command.argv, command.purpose, command.env !== undefined ? { env: command.env } : {});
    return;
  }
  await makePopulated(commands, population, {
    work: context.work,
    name,
    owner: context.owner,
    run: context.run,
    ...(context.epochSeconds !== undefined ? { epochSeconds: context.epochSeconds } : {}),
  });
}

/** An opened LUKS volume's bytes in the clear, until they are encrypted into its base. */
function plainFileOf(work: string, volume: string): string {
  return join(work, `${volume}.plain`);
}

/** LUKS volumes, those nested deepest (inside the plain files of others) first. */
function byNestingDepth(map: DeviceMap, volumes: readonly EncryptedPlan[]): EncryptedPlan[] {
  const depth = (volume: EncryptedPlan): number => {
    const files = piecesOf(placementOf(map, volume.base)).map((piece) => piece.file);
    const holders = volumes.filter((other) => files.includes(map.luks.get(other.name)?.plainFile ?? ""));
    return holders.length === 0 ? 0 : 1 + Math.max(...holders.map(depth));
  };
  return [...volumes].sort((a, b) => depth(b) - depth(a));
}

/** Runs `work` with the build's files opened on demand, and closes them whatever happens. */
async function withFiles<T>(work: (files: OpenFiles) => T | Promise<T>): Promise<T> {
  const files = new OpenFiles();
  try {
    return await work(files);
  } finally {
    files.close();
  }
}

/** A new file of `sizeBytes` that holds nothing yet (a hole), private to the build. */
function createSparseFile(path: string, sizeBytes: number): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    ftruncateSync(fd, sizeBytes);
  } finally {
    closeSync(fd);
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Runs tasks with at most `limit` at a time; the first failure is raised once all started ones end. */
async function inParallel(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < tasks.length && failure === undefined) {
      const task = tasks[next++]!;
      try {
        await task();
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  if (failure !== undefined) throw failure;
}
