/** Device mode for `local_loop`: a sparse image file attached to a loop device with partition scanning. */
import { setTimeout as sleep } from "node:timers/promises";
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { DeviceSession } from "../../../device/session.js";
import type { Resource } from "../../../device/journal.js";
import type { DiskPlan } from "../../../plan/types.js";

export function createImage(session: DeviceSession, disk: DiskPlan): void {
  session.journal.take({
    id: `image-file:${disk.name}`,
    kind: "image-file",
    node: disk.name,
    detail: { path: disk.path },
  });
  mkdirSync(dirname(disk.path), { recursive: true });
  // Truncating to the size makes a sparse file: no data blocks until something is written.
  const fd = openSync(disk.path, "w", 0o644);
  try {
    ftruncateSync(fd, disk.sizeBytes);
  } finally {
    closeSync(fd);
  }
}

export async function attachImage(session: DeviceSession, disk: DiskPlan): Promise<void> {
  const id = `loop-device:${disk.name}`;
  session.journal.take({ id, kind: "loop-device", node: disk.name, detail: { image: disk.path } });
  // --partscan makes the kernel create /dev/loopNpM itself: no kpartx, no device-mapper needed.
  const { stdout } = await session.run(
    ["losetup", "--show", "--find", "--partscan", disk.path],
    `attach ${disk.path}`,
  );
  const device = stdout.trim();
  session.journal.update(id, { device });
  session.devices.set(disk.name, device);
}

/** Loop devices backed by `image`, from the kernel's list (for a crash before the journal learnt it). */
async function loopDevicesOf(session: DeviceSession, image: string): Promise<string[]> {
  const { stdout } = await session.run(
    ["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"],
    "list loop devices",
  );
  if (stdout.trim() === "") return [];
  const list = JSON.parse(stdout) as { loopdevices?: { name: string; "back-file": string | null }[] };
  return (list.loopdevices ?? [])
    .filter((loop) => (loop["back-file"] ?? "").replace(/ \(deleted\)$/, "") === image)
    .map((loop) => loop.name);
}

export async function detachLoop(session: DeviceSession, resource: Resource): Promise<void> {
  const image = resource.detail.image!;
  const devices = resource.detail.device ? [resource.detail.device] : await loopDevicesOf(session, image);
  for (const device of devices) {
    // Only detach the device if it still belongs to our image (the number may have been reused).
    if (!(await loopDevicesOf(session, image)).includes(device)) continue;
    await session.run(["losetup", "--detach", device], `detach ${device}`);
    await gone(session, image, device);
  }
}

const DETACH_DEADLINE_MS = 5_000;

/**
 * `losetup --detach` of a device something still holds open (a partition being probed, a closing file
 * system) only marks it to clear on last close and succeeds; it is released once that close happens.
 * Wait for that, so "released" means gone from the kernel's list, not merely marked.
 */
async function gone(session: DeviceSession, image: string, device: string): Promise<void> {
  const deadline = Date.now() + DETACH_DEADLINE_MS;
  while ((await loopDevicesOf(session, image)).includes(device)) {
    if (Date.now() > deadline)
      throw new Error(
        `${device} (${image}) is still attached ${DETACH_DEADLINE_MS / 1000} s after losetup --detach: ` +
          "something holds it open (see `losetup --list` and `fuser -v` on it); run `delete` again once it is closed",
      );
    await sleep(50);
  }
}

export function removeImage(resource: Resource): void {
  rmSync(resource.detail.path!, { force: true });
}
