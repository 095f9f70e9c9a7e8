/**
 * Device mode on real loop devices (needs root): the DIB call sequence init → create → writefstab →
 * umount → cleanup, checked with tools we did not write, fault injection at every step, and SIGKILL at
 * every step followed by `delete`. Every test releases what it created, even when it fails.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeBuildDir } from "../helpers/build-dir.js";
import { createKilledAt, runCli } from "../helpers/cli.js";
import {
  loopDevicesUnder,
  mountsUnder,
  releaseEverythingUnder,
  run,
  deviceSuite,
  readSfdisk,
} from "../helpers/devices.js";

const { skip, work } = deviceSuite("blocksmith-device-");

const MBR_CONFIG = `
- local_loop:
    name: image0
- partitioning:
    base: image0
    label: mbr
    partitions:
      - name: boot
        flags: [boot, primary]
        size: 100MiB
        mkfs: {type: ext4, label: boot, mount: {mount_point: /boot, fstab: {}}}
      - name: root
        size: 400MiB
        mkfs: {name: mkfs_root, type: xfs, mount: {mount_point: /, fstab: {fsck-passno: 1}}}
      - name: var
        size: 100%
        mkfs: {type: ext4, label: var, mount: {mount_point: /var, fstab: {options: "defaults,nodev"}}}
`;

const GPT_CONFIG = `
- local_loop:
    name: image0
    size: 600MiB
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: BSP, type: "EF02", size: 8MiB}
      - name: root
        type: "8304"
        size: 100%
        mkfs: {name: mkfs_root, type: ext4, mount: {mount_point: /, fstab: {}}}
`;

const SEED_CONFIG = `
- local_loop:
    name: image0
    size: 600MiB
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: ESP, type: "EF00", size: 64MiB, mkfs: {type: vfat, label: efi}}
      - name: root
        size: 100%
        mkfs: {name: mkfs_root, type: ext4, mount: {mount_point: /}}
`;

const OTHER_FS_CONFIG = `
- local_loop:
    name: image0
    size: 1GiB
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: swap, type: "8200", size: 64MiB, mkfs: {name: mkfs_swap, type: swap}}
      - {name: p2, size: 64MiB, mkfs: {type: ext2, label: old2}}
      - {name: p3, size: 64MiB, mkfs: {type: ext3, label: old3}}
      - name: p4
        size: 100%
        mkfs: {name: mkfs_root, type: btrfs, label: data, mount: {mount_point: /, fstab: {}}}
`;

let counter = 0;
/** A fresh build directory with config and params, as disk-image-create lays them out. */
function setup(config: string, imageSize = "1GiB"): { dir: string; params: string; image: string } {
  counter += 1;
  const dir = join(work, `build${counter}`);
  const params = writeBuildDir(dir, config, imageSize);
  return { dir, params, image: join(dir, "images", "image0.raw") };
}

function phase(params: string, ...args: string[]) {
  return runCli(["--params", params, ...args]);
}

function assertNothingLeft(dir: string): void {
  assert.deepEqual(loopDevicesUnder(dir), [], "loop devices left behind");
  assert.deepEqual(mountsUnder(dir), [], "mounts left behind");
}

describe("device mode on loop devices", { skip }, () => {
  it("MBR with logicals: the DIB sequence, checked with sfdisk, blkid, fsck and a read-back", () => {
    const { dir, params, image } = setup(MBR_CONFIG);
    try {
      assert.equal(phase(params, "init").status, 0);
      assert.equal(phase(params, "getval", "root-label").stdout, "img-rootfs\n");
      const created = phase(params, "create", "--seed", "test-seed");
      assert.equal(created.status, 0, created.stderr);
      const plan = JSON.parse(readFileSync(join(dir, "states/block-device/plan.json"), "utf8")) as {
        disks: {
          partitions: {
            number: number;
            startSector: number;
            sizeSectors: number;
            type: string;
            flags: string[];
          }[];
        }[];
      };
      const devices = phase(params, "getval", "image-block-devices").stdout;
      assert.match(
        devices,
        /\[image0\]=\/dev\/loop\d+ +\[boot\]=\/dev\/loop\d+p1 +\[root\]=\/dev\/loop\d+p5 +\[var\]=\/dev\/loop\d+p6/,
      );
      assert.equal(phase(params, "getval", "image-path").stdout, `${image}\n`);

      // The tree is mounted in mount order; write into /var through the mount.
      const mnt = join(dir, "mnt");
      assert.deepEqual(mountsUnder(mnt), [mnt, join(mnt, "boot"), join(mnt, "var")]);
      writeFileSync(join(mnt, "var", "hello.txt"), "written through the mount\n");

      assert.equal(phase(params, "writefstab").status, 0);
      assert.equal(
        readFileSync(join(dir, "built/etc/fstab"), "utf8"),
        "LABEL=img-rootfs / xfs defaults 0 1\nLABEL=boot /boot ext4 defaults 0 2\nLABEL=var /var ext4 defaults,nodev 0 2\n",
      );
      assert.equal(phase(params, "umount").status, 0);
      assertNothingLeft(dir);

      // Independent readers: the table is the plan, sector for sector.
      const table = readSfdisk(image);
      const read = table.partitions.map((p) => [
        Number(/(\d+)$/.exec(p.node)![1]),
        p.start,
        p.size,
        p.type,
        p.bootable === true,
      ]);
      const planned = plan.disks[0]!.partitions.map((p) => [
        p.number,
        p.startSector,
        p.sizeSectors,
        p.type.replace(/^0x0?/, ""),
        p.flags.includes("boot"),
      ]);
      assert.deepEqual(read, planned);
      const byOffset = (sector: number) =>
        run(["blkid", "-p", "-O", String(sector * 512), "-o", "export", image]);
      const [boot, , root, varPart] = plan.disks[0]!.partitions;
      assert.match(byOffset(boot!.startSector), /LABEL=boot\nUUID=.*\n(?:.*\n)*TYPE=ext4/);
      assert.match(byOffset(root!.startSector), /LABEL=img-rootfs[\s\S]*TYPE=xfs/);
      assert.match(byOffset(varPart!.startSector), /LABEL=var[\s\S]*TYPE=ext4/);

      // Re-attach read-only, fsck every file system, mount /var read-only and read the file back.
      const loop = run(["losetup", "--show", "--find", "--read-only", image]).trim();
      try {
        run(["partx", "--add", loop]);
        run(["fsck.ext4", "-n", `${loop}p1`]);
        run(["xfs_repair", "-n", `${loop}p5`]);
        run(["fsck.ext4", "-n", `${loop}p6`]);
        const check = join(dir, "check");
        mkdirSync(check);
        run(["mount", "-o", "ro", `${loop}p6`, check]);
        try {
          assert.equal(readFileSync(join(check, "hello.txt"), "utf8"), "written through the mount\n");
        } finally {
          run(["umount", check]);
        }
      } finally {
        run(["losetup", "--detach", loop]);
      }

      assert.equal(phase(params, "cleanup").status, 0);
      assert.ok(existsSync(image), "cleanup keeps the image (the product)");
      assert.ok(!existsSync(join(dir, "states/block-device")), "cleanup removes the state directory");
    } finally {
      phase(params, "delete");
      releaseEverythingUnder(dir);
    }
  });

  it("GPT: create then delete removes images, loop devices and mounts", () => {
    const { dir, params, image } = setup(GPT_CONFIG);
    try {
      assert.equal(phase(params, "init").status, 0);
      const created = phase(params, "create");
      assert.equal(created.status, 0, created.stderr);
      const verify = run(["sgdisk", "-v", loopDevicesUnder(dir)[0]!.name]);
      assert.match(verify, /No problems found/);
      assert.equal(phase(params, "delete").status, 0);
      assertNothingLeft(dir);
      assert.ok(!existsSync(image), "delete removes the image");
      // delete is idempotent.
      assert.equal(phase(params, "delete").status, 0);
    } finally {
      phase(params, "delete");
      releaseEverythingUnder(dir);
    }
  });

  it("--seed makes the disk and partition GUIDs, file system UUIDs and the FAT volume id reproducible", () => {
    const identities: string[] = [];
    for (let round = 0; round < 2; round += 1) {
      const { dir, params, image } = setup(SEED_CONFIG);
      try {
        assert.equal(phase(params, "init").status, 0);
        const created = phase(params, "create", "--seed", "fixed");
        assert.equal(created.status, 0, created.stderr);
        assert.equal(phase(params, "umount").status, 0);
        const table = readSfdisk(image);
        const uuidAt = (index: number) =>
          run([
            "blkid",
            "-p",
            "-O",
            String(table.partitions[index]!.start * 512),
            "-s",
            "UUID",
            "-o",
            "value",
            image,
          ]).trim();
        identities.push(
          JSON.stringify([table.id, table.partitions.map((p) => p.uuid), uuidAt(0), uuidAt(1)]),
        );
      } finally {
        phase(params, "delete");
        releaseEverythingUnder(dir);
      }
    }
    assert.equal(identities[0], identities[1]);
    assert.doesNotMatch(identities[0]!, /null|""/);
  });

  it("btrfs, swap, ext2 and ext3 are made with their labels and UUIDs, btrfs mounted", () => {
    const { dir, params, image } = setup(OTHER_FS_CONFIG);
    try {
      assert.equal(phase(params, "init").status, 0);
      const created = phase(params, "create", "--seed", "fs-types");
      assert.equal(created.status, 0, created.stderr);
      assert.deepEqual(mountsUnder(join(dir, "mnt")), [join(dir, "mnt")]);
      const state = JSON.parse(readFileSync(join(dir, "states/block-device/state.json"), "utf8")) as {
        filesys: Record<string, { uuid: string; label: string; fstype: string }>;
      };
      assert.equal(phase(params, "umount").status, 0);
      const table = readSfdisk(image);
      const expected: [number, string, string][] = [
        [0, "swap", "mkfs_swap"],
        [1, "ext2", "old2"],
        [2, "ext3", "old3"],
        [3, "btrfs", "data"],
      ];
      for (const [index, type, name] of expected) {
        const found = run([
          "blkid",
          "-p",
          "-O",
          String(table.partitions[index]!.start * 512),
          "-o",
          "export",
          image,
        ]);
        const fs = Object.values(state.filesys).find((f) => f.fstype === type)!;
        assert.match(found, new RegExp(`^TYPE=${type}$`, "m"), name);
        assert.match(found, new RegExp(`^LABEL=${fs.label}$`, "m"), name);
        assert.match(
          found,
          new RegExp(`^UUID=${fs.uuid}$`, "m"),
          `${name}: the UUID in state.json is the one on disk`,
        );
      }
    } finally {
      phase(params, "delete");
      releaseEverythingUnder(dir);
    }
  });

  it("a failure at any step rolls back everything create took", () => {
    const { dir, params } = setup(MBR_CONFIG);
    assert.equal(phase(params, "init").status, 0);
    const steps = (
      JSON.parse(readFileSync(join(dir, "states/block-device/plan.json"), "utf8")) as { steps: unknown[] }
    ).steps.length;
    try {
      for (let step = 0; step < steps; step += 1) {
        const result = runCli(["--params", params, "create"], {
          env: { BLOCKSMITH_TEST_FAIL_BEFORE_STEP: String(step) },
        });
        assert.notEqual(result.status, 0, `step ${step}`);
        assert.match(result.stderr, new RegExp(`fault injected before step ${step}`));
        assertNothingLeft(dir);
        assert.ok(!existsSync(join(dir, "images/image0.raw")), `step ${step}: the half image is removed`);
      }
    } finally {
      phase(params, "delete");
      releaseEverythingUnder(dir);
    }
  });

  it("SIGKILL at any step, then delete, leaves nothing behind", async () => {
    const { dir, params } = setup(MBR_CONFIG);
    assert.equal(phase(params, "init").status, 0);
    const steps = (
      JSON.parse(readFileSync(join(dir, "states/block-device/plan.json"), "utf8")) as { steps: unknown[] }
    ).steps.length;
    try {
      for (let step = 0; step < steps; step += 1) {
        await createKilledAt(params, step);
        const deleted = phase(params, "delete");
        assert.equal(deleted.status, 0, `step ${step}: ${deleted.stderr}`);
        assertNothingLeft(dir);
        assert.ok(!existsSync(join(dir, "images/image0.raw")), `step ${step}: the image is removed`);
        // delete removed the state directory; the next round starts from init again.
        assert.equal(phase(params, "init").status, 0);
      }
    } finally {
      phase(params, "delete");
      releaseEverythingUnder(dir);
    }
  });
});
