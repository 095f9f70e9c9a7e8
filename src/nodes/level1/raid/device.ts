/**
 * Device mode for `raid`: mdadm --create as planned, with a fixed homehost (and with --seed a derived
 * array UUID) so the superblock does not carry the build host's name; stop from the journal.
 */
import { existsSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { CommandError } from "../../../core/runner.js";
import type { ReleaseMode, Resource } from "../../../device/journal.js";
import type { DeviceSession } from "../../../device/session.js";
import { purposes } from "../../../formats/identifiers.js";
import type { RaidPlan } from "../../../plan/types.js";

/**
 * mdadm records "<homehost>:<name>" in a 1.x superblock, by default with the build host's name: the
 * array would be foreign everywhere else and udev's incremental assembly would call it
 * /dev/md/<name>_0. "any" (measured with mdadm 4.2) makes every host treat it as its own and assemble it
 * as /dev/md/<name>, the name the config gave, on the build host (when its images are attached again)
 * and on the machine that boots the image alike.
 */
export const MD_HOMEHOST = "any";

const STOP_ATTEMPTS = 10;
const DEVICE_DEADLINE_MS = 10_000;

export function raidProblems(raid: RaidPlan): string[] {
  return existsSync(raid.device)
    ? [`an md array ${raid.device} already exists on this host; rename the raid entry or stop that array`]
    : [];
}

/** The planned `mdadm --create` with the homehost, and the UUID when the build is seeded. */
export function mdadmCreateArgv(planned: readonly string[], uuid: string | undefined): string[] {
  const at = planned.indexOf("--run") + 1;
  if (at === 0) throw new Error(`internal: not a planned mdadm --create: ${planned.join(" ")}`);
  return [
    ...planned.slice(0, at),
    "--homehost",
    MD_HOMEHOST,
    ...(uuid !== undefined ? ["--uuid", uuid] : []),
    ...planned.slice(at),
  ];
}

export async function createRaid(
  session: DeviceSession,
  raid: RaidPlan,
  planned: readonly string[],
): Promise<void> {
  const members = raid.bases.map((base) => session.devices.get(base)!);
  session.journal.take({
    id: `md-array:${raid.name}`,
    kind: "md-array",
    node: raid.name,
    detail: { device: raid.device, members: members.join(",") },
  });
  const uuid = session.options.seed !== undefined ? session.ids.uuid(purposes.mdArray(raid.name)) : undefined;
  await session.run(
    mdadmCreateArgv(session.resolve(planned), uuid),
    `create RAID${raid.level} ${raid.device}`,
  );
  const deadline = Date.now() + DEVICE_DEADLINE_MS;
  while (!existsSync(raid.device)) {
    if (Date.now() > deadline) throw new Error(`${raid.device} did not appear after mdadm --create`);
    await sleep(20);
  }
  session.devices.set(raid.name, raid.device);
}

/** The member devices of a running array, from `mdadm --detail --export`. */
export function parseExportedMembers(text: string): string[] {
  return [...text.matchAll(/^MD_DEVICE_\S+_DEV=(\S+)$/gm)].map((match) => match[1]!);
}

function sameDevice(a: string, b: string): boolean {
  try {
    return statSync(a).rdev === statSync(b).rdev;
  } catch {
    return a === b;
  }
}

/** Stops the array if it runs on our members (both modes); rollback/delete also erase the superblocks. */
export async function stopRaid(session: DeviceSession, resource: Resource, mode: ReleaseMode): Promise<void> {
  const device = resource.detail.device!;
  const members = resource.detail.members!.split(",");
  if (existsSync(device)) {
    const { stdout } = await session.run(
      ["mdadm", "--detail", "--export", device],
      `which devices ${device} uses`,
    );
    const running = parseExportedMembers(stdout);
    const foreign = running.filter((member) => !members.some((ours) => sameDevice(member, ours)));
    if (foreign.length > 0)
      throw new Error(
        `${device} runs on ${foreign.join(", ")}, which this build did not make; not stopping it`,
      );
    for (let attempt = 1; ; attempt += 1) {
      try {
        await session.run(["mdadm", "--stop", device], `stop ${device}`);
        break;
      } catch (error) {
        // udev workers probing the new array hold it open for a moment ("Cannot get exclusive access").
        const busy = error instanceof CommandError && /exclusive access|busy/i.test(error.stderr);
        if (!busy || attempt >= STOP_ATTEMPTS) throw error;
        await sleep(100 * attempt);
      }
    }
  }
  if (mode === "remove") {
    const present = members.filter((member) => existsSync(member));
    if (present.length === 0) return;
    try {
      await session.run(["mdadm", "--zero-superblock", ...present], `erase the md superblocks of ${device}`);
    } catch (error) {
      // A crash before --create left no superblock to erase; that is not worth failing a rollback for.
      if (!(error instanceof CommandError)) throw error;
      session.options.log({ event: "warning", message: `could not erase md superblocks: ${error.message}` });
    }
  }
}
