/**
 * The `device` node in device mode (needs root): an existing block device (a loop device this test
 * attaches itself, standing in for /dev/sdb) is partitioned and formatted but never detached; devices in
 * use or carrying signatures are refused before anything is written. Every loop device and mount the
 * test makes is released in `finally`, even when an assertion fails.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeBuildDir } from "../helpers/build-dir.js";
import { runCli } from "../helpers/cli.js";
import {
  loopDevicesUnder,
  mountsUnder,
  releaseEverythingUnder,
  run,
  deviceSuite,
  readSfdisk,
} from "../helpers/devices.js";

const { skip, work } = deviceSuite("blocksmith-existing-device-");

function gptConfig(device: string, wipe = false): string {
  return `
- device:
    name: image0
    path: ${device}${wipe ? "\n    wipe: true" : ""}
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: BSP, type: "EF02", size: 8MiB}
      - name: root
        size: 100%
        mkfs: {name: mkfs_root, type: ext4, mount: {mount_point: /, fstab: {}}}
`;
}

let counter = 0;
/** A build directory with a sparse backing file attached to a loop device: the "existing disk". */
function setup(): { dir: string; backing: string; device: string } {
  counter += 1;
  const dir = join(work, `build${counter}`);
  mkdirSync(dir, { recursive: true });
  const backing = join(dir, "disk.raw");
  writeFileSync(backing, "");
  truncateSync(backing, 128 * 1024 * 1024);
  const device = run(["losetup", "--show", "--find", backing]).trim();
  return { dir, backing, device };
}

function writeParams(dir: string, config: string): string {
  return writeBuildDir(dir, config);
}

function phase(params: string, ...args: string[]) {
  return runCli(["--params", params, ...args]);
}

function firstMiBChecksum(file: string): string {
  const buffer = Buffer.alloc(1024 * 1024);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  return createHash("sha256").update(buffer).digest("hex");
}

function stillAttached(dir: string, device: string, backing: string): void {
  assert.deepEqual(loopDevicesUnder(dir), [{ name: device, backFile: backing }], "the device stays attached");
}

interface PlannedPartition {
  number: number;
  startSector: number;
  sizeSectors: number;
  type: string;
}

describe("device mode on an existing device", { skip }, () => {
  it("GPT + ext4: create, umount, cleanup; the device stays attached and holds the planned table", () => {
    const { dir, backing, device } = setup();
    const params = writeParams(dir, gptConfig(device));
    try {
      assert.equal(phase(params, "init").status, 0);
      const created = phase(params, "create");
      assert.equal(created.status, 0, created.stderr);
      const state = JSON.parse(readFileSync(join(dir, "states/block-device/state.json"), "utf8")) as {
        blockdev: Record<string, Record<string, string>>;
        blocksmith: { plan: { disks: { sizeBytes: number; partitions: PlannedPartition[] }[] } };
      };
      assert.deepEqual(state.blockdev.image0, { device });
      assert.deepEqual(state.blockdev.root, { device: `${device}p2` });
      const plan = state.blocksmith.plan;
      assert.equal(plan.disks[0]!.sizeBytes, 128 * 1024 * 1024, "planned with the real size of the device");
      assert.deepEqual(mountsUnder(join(dir, "mnt")), [join(dir, "mnt")]);

      assert.equal(phase(params, "umount").status, 0);
      assert.deepEqual(mountsUnder(dir), []);
      assert.equal(phase(params, "cleanup").status, 0);
      stillAttached(dir, device, backing);

      const table = readSfdisk(backing);
      assert.equal(table.label, "gpt");
      assert.deepEqual(
        table.partitions.map((p) => [Number(/(\d+)$/.exec(p.node)![1]), p.start, p.size, p.type]),
        plan.disks[0]!.partitions.map((p) => [p.number, p.startSector, p.sizeSectors, p.type]),
      );
      const root = plan.disks[0]!.partitions[1]!;
      assert.match(
        run(["blkid", "-p", "-O", String(root.startSector * 512), "-o", "export", backing]),
        /TYPE=ext4/,
      );
    } finally {
      phase(params, "delete");
      releaseEverythingUnder(dir);
    }
  });

  it("refuses a device with signatures unless --force or wipe: true, and a mounted one always", () => {
    const { dir, backing, device } = setup();
    const params = writeParams(dir, gptConfig(device));
    const check = join(dir, "check");
    try {
      run(["mkfs.ext4", "-q", device]);
      const before = firstMiBChecksum(backing);
      assert.equal(phase(params, "init").status, 0);

      const refused = phase(params, "create");
      assert.equal(refused.status, 3, refused.stderr);
      assert.match(refused.stderr, /carries signatures \(ext4 on /);
      assert.match(refused.stderr, /wipe: true.*--force/);
      assert.equal(firstMiBChecksum(backing), before, "nothing was written to the refused device");
      stillAttached(dir, device, backing);

      // Mounted: refused even with --force, and still nothing written.
      mkdirSync(check);
      // Read-only, so that the mount itself does not write (a rw ext4 mount updates its superblock).
      run(["mount", "-o", "ro", device, check]);
      try {
        const mounted = phase(params, "create", "--force");
        assert.equal(mounted.status, 3, mounted.stderr);
        assert.match(mounted.stderr, new RegExp(`in use \\(mounted: ${device} on ${check}\\)`));
        assert.match(mounted.stderr, /--force does not override this/);
      } finally {
        run(["umount", check]);
      }
      assert.equal(firstMiBChecksum(backing), before, "nothing was written to the mounted device");

      const forced = phase(params, "create", "--force");
      assert.equal(forced.status, 0, forced.stderr);
      assert.notEqual(firstMiBChecksum(backing), before);
      assert.equal(phase(params, "delete").status, 0);
      stillAttached(dir, device, backing);

      // wipe: true in the config does the same as --force.
      assert.equal(phase(params, "init").status, 0);
      assert.equal(phase(params, "create").status, 3, "the GPT just written is a signature too");
      writeParams(dir, gptConfig(device, true));
      assert.equal(phase(params, "init").status, 0);
      const wiped = phase(params, "create");
      assert.equal(wiped.status, 0, wiped.stderr);
      assert.equal(phase(params, "delete").status, 0);
      stillAttached(dir, device, backing);
    } finally {
      phase(params, "delete");
      releaseEverythingUnder(dir);
    }
  });

  it("delete after create leaves the device attached and never tries to detach it", () => {
    const { dir, backing, device } = setup();
    const params = writeParams(dir, gptConfig(device));
    try {
      assert.equal(phase(params, "init").status, 0);
      assert.equal(phase(params, "create").status, 0);
      const deleted = phase(params, "delete", "--json");
      assert.equal(deleted.status, 0, deleted.stderr);
      const commands = deleted.stdout
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as { event: string; argv?: string[] })
        .filter((event) => event.event === "command")
        .map((event) => event.argv!.join(" "));
      assert.ok(
        commands.every((command) => !command.startsWith("losetup") && !command.includes("wipefs")),
        commands.join("\n"),
      );
      assert.deepEqual(mountsUnder(dir), []);
      stillAttached(dir, device, backing);
      assert.equal(statSync(backing).size, 128 * 1024 * 1024, "delete leaves the backing disk alone");
    } finally {
      phase(params, "delete");
      releaseEverythingUnder(dir);
    }
  });
});
