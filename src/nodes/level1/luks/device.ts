/**
 * Device mode for `luks`: luksFormat and open as planned, the key always read from a file or from
 * standard input (never an argument, never logged, never in state.json); close from the journal.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { CommandError } from "../../../core/runner.js";
import type { ReleaseMode, Resource } from "../../../device/journal.js";
import type { DeviceSession } from "../../../device/session.js";
import { purposes } from "../../../formats/identifiers.js";
import type { EncryptedPlan } from "../../../plan/types.js";

const MAPPING_DEADLINE_MS = 10_000;

/** What refuses a LUKS volume before anything is touched: no key, an unreadable key, a taken name. */
export function luksProblems(volume: EncryptedPlan): string[] {
  const problems: string[] = [];
  if (volume.keySource === null)
    problems.push(
      `luks "${volume.name}" has neither key-file nor passphrase-file; device mode needs one to format and open it`,
    );
  else {
    try {
      accessSync(volume.keySource.path, constants.R_OK);
    } catch (error) {
      problems.push(
        `luks "${volume.name}": cannot read ${volume.keySource.kind} ${volume.keySource.path}: ${(error as Error).message}`,
      );
    }
  }
  if (existsSync(`/dev/mapper/${volume.name}`))
    problems.push(
      `a device-mapper device /dev/mapper/${volume.name} already exists on this host; rename the luks entry or close it`,
    );
  return problems;
}

/** A passphrase file's contents without its trailing newline (what a person typing it would enter). */
export function passphraseFromFile(contents: Buffer): Buffer {
  let end = contents.length;
  if (end > 0 && contents[end - 1] === 0x0a) end -= 1;
  if (end > 0 && contents[end - 1] === 0x0d) end -= 1;
  return contents.subarray(0, end);
}

/**
 * The planned argv with the key source applied: a key file is read by cryptsetup itself; a passphrase
 * file is read here and fed on standard input (`--key-file -`), so its newline can be dropped.
 */
export function withKey(argv: readonly string[], volume: EncryptedPlan): { argv: string[]; input?: Buffer } {
  const source = volume.keySource!;
  if (source.kind === "key-file") return { argv: [...argv] };
  const at = argv.indexOf("--key-file");
  const out = [...argv];
  out[at + 1] = "-";
  return { argv: out, input: passphraseFromFile(readFileSync(source.path)) };
}

export async function formatLuks(
  session: DeviceSession,
  volume: EncryptedPlan,
  planned: readonly string[],
): Promise<void> {
  const { argv, input } = withKey(session.resolve(planned), volume);
  // With --seed the LUKS UUID (crypttab names it) is derived too, so the image is reproducible.
  if (session.options.seed !== undefined)
    argv.splice(-1, 0, "--uuid", session.ids.uuid(purposes.luks(volume.name)));
  await session.run(argv, `encrypt ${volume.base} (${volume.luksType})`, input);
}

export async function openLuks(
  session: DeviceSession,
  volume: EncryptedPlan,
  planned: readonly string[],
): Promise<void> {
  const { argv, input } = withKey(session.resolve(planned), volume);
  const base = session.devices.get(volume.base)!;
  session.journal.take({
    id: `luks:${volume.name}`,
    kind: "luks",
    node: volume.name,
    detail: { name: volume.name, base },
  });
  await session.run(argv, `open ${base} as ${volume.device}`, input);
  const deadline = Date.now() + MAPPING_DEADLINE_MS;
  while (!existsSync(volume.device)) {
    if (Date.now() > deadline) throw new Error(`${volume.device} did not appear after cryptsetup open`);
    await sleep(20);
  }
  session.devices.set(volume.name, volume.device);
  const { stdout } = await session.run(["cryptsetup", "luksUUID", base], `read the LUKS UUID of ${base}`);
  session.luksUuids.set(volume.name, stdout.trim());
}

/** The backing device of an open mapping, from `cryptsetup status`, or undefined when it is not open. */
async function mappingBackingDevice(session: DeviceSession, name: string): Promise<string | undefined> {
  try {
    const { stdout } = await session.run(["cryptsetup", "status", name], `is ${name} open`);
    return /^\s*device:\s*(\S+)/m.exec(stdout)?.[1];
  } catch (error) {
    // cryptsetup status exits 4 for a mapping that does not exist.
    if (error instanceof CommandError && error.commandExitCode === 4) return undefined;
    throw error;
  }
}

/** Closes the mapping (both modes: the header stays on the device) if it is open and still ours. */
export async function closeLuks(
  session: DeviceSession,
  resource: Resource,
  _mode: ReleaseMode,
): Promise<void> {
  const { name, base } = resource.detail as { name: string; base: string };
  const backing = await mappingBackingDevice(session, name);
  if (backing === undefined) return;
  if (!sameDevice(backing, base))
    throw new Error(
      `/dev/mapper/${name} is open on ${backing}, not on ${base} as journalled; not closing someone else's mapping`,
    );
  await session.run(["cryptsetup", "close", name], `close /dev/mapper/${name}`);
}

/** Whether two paths name the same block device (/dev/md/x and /dev/md127, /dev/vg/lv and /dev/dm-3). */
function sameDevice(a: string, b: string): boolean {
  try {
    return statSync(a).rdev === statSync(b).rdev;
  } catch {
    return a === b;
  }
}
