/**
 * Device mode for `device`: an existing block device as the level-0 target. It is never created,
 * detached or deleted, so nothing about it goes into the journal; before anything is written to it,
 * blocksmith refuses a device that is in use or that carries data the config did not say may go.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { BlocksmithError, ExitCode } from "../../../core/errors.js";
import type { DeviceSession } from "../../../device/session.js";
import type { DiskPlan } from "../../../plan/types.js";

/** The `device` was refused before anything was written to it: in use, not a block device, or not empty. */
export class DeviceRefusedError extends BlocksmithError {
  readonly exitCode = ExitCode.config;
  readonly kind = "device-refused";
  constructor(message: string) {
    super(message);
    this.name = "DeviceRefusedError";
  }
}

type RunCommand = (argv: readonly string[], purpose: string) => Promise<{ stdout: string }>;

/** The kernel's path of the device (symlinks like /dev/disk/by-id/… resolved); refuses anything else. */
export function resolveBlockDevice(path: string): string {
  if (!existsSync(path)) throw new DeviceRefusedError(`device ${path} does not exist`);
  const real = realpathSync(path);
  if (!statSync(real).isBlockDevice())
    throw new DeviceRefusedError(
      `${path}${real !== path ? ` (${real})` : ""} is not a block device; \`device\` needs a disk such as /dev/sdb (use local_loop for image files)`,
    );
  return real;
}

/** The size in bytes of the device at `path`, as the kernel reports it (for planning in device mode). */
export async function readDeviceSize(run: RunCommand, path: string): Promise<number> {
  const device = resolveBlockDevice(path);
  const { stdout } = await run(["blockdev", "--getsize64", device], `read the size of ${device}`);
  const sizeBytes = Number(stdout.trim());
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0)
    throw new DeviceRefusedError(`blockdev reported an unusable size for ${device}: "${stdout.trim()}"`);
  return sizeBytes;
}

/** "major:minor" of a block device node. */
function deviceNumber(path: string): string {
  const rdev = statSync(path).rdev;
  // Linux dev_t: major in bits 8–19 (and 32+), minor in bits 0–7 and 20–31.
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return `${major}:${minor}`;
}

/** The device's partitions as the kernel knows them: kernel name and "major:minor". */
function kernelPartitions(kernelName: string): { name: string; number: string }[] {
  const sysDir = `/sys/class/block/${kernelName}`;
  return readdirSync(sysDir)
    .filter((entry) => existsSync(join(sysDir, entry, "partition")))
    .map((entry) => ({ name: entry, number: readFileSync(join(sysDir, entry, "dev"), "utf8").trim() }));
}

/** Mount points (from mountinfo's major:minor and from each mount source) of any of `numbers`. */
function mountsOf(numbers: Map<string, string>): string[] {
  const found: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 10) continue;
    const separator = fields.indexOf("-");
    const source = (fields[separator + 2] ?? "").replace(/\\040/g, " ");
    const target = (fields[4] ?? "").replace(/\\040/g, " ");
    let byNumber = numbers.get(fields[2] ?? "");
    // btrfs and others report an anonymous device number; the source names the real one.
    if (byNumber === undefined && source.startsWith("/")) byNumber = numbers.get(numberOrEmpty(source));
    if (byNumber !== undefined) found.push(`${byNumber} on ${target}`);
  }
  return found;
}

function numberOrEmpty(path: string): string {
  try {
    return statSync(path).isBlockDevice() ? deviceNumber(path) : "";
  } catch {
    return "";
  }
}

function swapsOf(numbers: Map<string, string>): string[] {
  return readFileSync("/proc/swaps", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => (line.split(/\s+/)[0] ?? "").replace(/\\040/g, " "))
    .filter((source) => source.startsWith("/") && numbers.has(numberOrEmpty(source)))
    .map((source) => numbers.get(numberOrEmpty(source))!);
}

function holdersOf(kernelNames: string[]): string[] {
  return kernelNames.flatMap((name) =>
    readdirSync(`/sys/class/block/${name}/holders`).map((holder) => `/dev/${name} is held by ${holder}`),
  );
}

interface Signature {
  device: string;
  offset: string;
  type: string;
}

async function signaturesOf(session: DeviceSession, device: string): Promise<Signature[]> {
  const { stdout } = await session.run(
    ["wipefs", "--no-act", "--json", device],
    `look for signatures on ${device}`,
  );
  if (stdout.trim() === "") return [];
  const found = (JSON.parse(stdout) as { signatures?: { offset: string; type: string }[] }).signatures ?? [];
  return found.map((s) => ({ device, offset: s.offset, type: s.type }));
}

/**
 * The `check-device` step: refuses a device that is mounted, used as swap or held by LVM/md/dm (always),
 * or that carries signatures (unless `wipe: true` or `--force`, which clear them). Registers the device
 * for `{dev:NAME}`; it is not journalled, because nothing of blocksmith's is taken: it stays as it is.
 */
export async function checkDevice(
  session: DeviceSession,
  disk: DiskPlan,
  { wipe }: { wipe: boolean },
): Promise<void> {
  const device = resolveBlockDevice(disk.path);
  const kernelName = basename(device);
  const partitions = kernelPartitions(kernelName);
  const numbers = new Map<string, string>([[deviceNumber(device), device]]);
  for (const partition of partitions) numbers.set(partition.number, `/dev/${partition.name}`);

  const inUse = [
    ...mountsOf(numbers).map((m) => `mounted: ${m}`),
    ...swapsOf(numbers).map((s) => `used as swap: ${s}`),
    ...holdersOf([kernelName, ...partitions.map((p) => p.name)]),
  ];
  if (inUse.length > 0)
    throw new DeviceRefusedError(
      `refusing ${disk.path} (device "${disk.name}"): it is in use (${inUse.join("; ")}); unmount it, swapoff it or release its holders first (--force does not override this)`,
    );

  const partitionDevices = partitions.map((p) => `/dev/${p.name}`).filter((p) => existsSync(p));
  const signatures: Signature[] = [];
  for (const target of [device, ...partitionDevices])
    signatures.push(...(await signaturesOf(session, target)));
  if (signatures.length > 0) {
    const found = signatures.map((s) => `${s.type} on ${s.device} at ${s.offset}`).join(", ");
    if (!wipe && session.options.force !== true)
      throw new DeviceRefusedError(
        `refusing ${disk.path} (device "${disk.name}"): it carries signatures (${found}); to overwrite them, set \`wipe: true\` on the device entry or run create with --force`,
      );
    session.options.log({ event: "warning", node: disk.name, message: `wiping signatures: ${found}` });
    // Partitions first: once the table is gone, their device nodes may go with it.
    for (const target of [...partitionDevices, device])
      await session.run(["wipefs", "--all", target], `clear the signatures on ${target}`);
  }
  session.devices.set(disk.name, device);
}
