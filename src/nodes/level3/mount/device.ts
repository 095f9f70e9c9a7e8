/** Device mode for `mount`: mount in mount order, unmount in reverse, trimming first as DIB does. */
import { mkdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { CommandError } from "../../../core/runner.js";
import type { Resource } from "../../../device/journal.js";
import type { DeviceSession } from "../../../device/session.js";

const UMOUNT_ATTEMPTS = 10;

export async function mountFilesystem(
  session: DeviceSession,
  node: string,
  mountPoint: string,
  device: string,
  target: string,
  fsType: string,
): Promise<void> {
  mkdirSync(target, { recursive: true });
  session.journal.take({ id: `mount:${mountPoint}`, kind: "mount", node, detail: { target, fsType } });
  await session.run(["mount", device, target], `mount ${mountPoint}`);
}

export async function unmountFilesystem(session: DeviceSession, resource: Resource): Promise<void> {
  const target = resource.detail.target!;
  if (!(await isMounted(session, target))) return;
  await session.run(["sync"], "flush before trimming");
  // fstrim discards unused blocks so the image stays small; DIB skips vfat, which lacks FITRIM on old kernels.
  if (resource.detail.fsType !== "vfat") {
    try {
      await session.run(["fstrim", "--verbose", target], `trim ${target}`);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      session.options.log({
        event: "warning",
        message: `fstrim ${target} failed; continuing: ${error.message}`,
      });
    }
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      await session.run(["umount", target], `unmount ${target}`);
      return;
    } catch (error) {
      const busy = error instanceof CommandError && /busy/i.test(error.stderr);
      if (!busy || attempt >= UMOUNT_ATTEMPTS) throw error;
      await sleep(100 * attempt);
    }
  }
}

async function isMounted(session: DeviceSession, target: string): Promise<boolean> {
  try {
    await session.run(["findmnt", "--mountpoint", target], `is ${target} mounted`);
    return true;
  } catch (error) {
    if (error instanceof CommandError && error.commandExitCode === 1) return false;
    throw error;
  }
}
