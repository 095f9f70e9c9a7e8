/**
 * Device mode on the differential corpus: every config DIB lays out and device mode handles is created
 * on real loop devices, and what the kernel and the file system tools read back must be the plan; every
 * file system passes its own checker (e2fsck/xfs_repair/fsck.vfat/btrfs check, read-only). The
 * differential suites prove the plan equals DIB's layout, fstab and mkfs commands, so together these
 * show that `create` makes what DIB 3.13 makes. (Mounting vfat needs a kernel this host lacks, so
 * configs that mount vfat are left to the VM suite; their vfat is still made and checked with blkid.)
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { SUPPORTED_ACTIONS } from "../../src/device/executor.js";
import { planLayout } from "../../src/plan/planner.js";
import type { Plan } from "../../src/plan/types.js";
import { runCli } from "../helpers/cli.js";
import {
  loopDevicesUnder,
  mountsUnder,
  releaseEverythingUnder,
  run,
  deviceSuite,
  readSfdisk,
} from "../helpers/devices.js";
import { loadCorpus, type CorpusConfig } from "../differential/support.js";

const { skip, work } = deviceSuite("blocksmith-corpus-");

/** Steps that need device-mapper or md, which the kernel of the build host may lack (the VM suite has both). */
const STACK_ACTIONS = new Set(["mdadm-create", "luksFormat", "luksOpen", "pvcreate", "vgcreate", "lvcreate"]);
const KERNEL_HAS_STACKS = existsSync("/dev/mapper/control") && existsSync("/proc/mdstat");

/** The corpus configs DIB lays out that device mode handles on this kernel, with their plans. */
function candidates(): { config: CorpusConfig; plan: Plan }[] {
  const chosen: { config: CorpusConfig; plan: Plan }[] = [];
  for (const config of loadCorpus()) {
    if (config.set !== "good" || config.dibStage !== undefined) continue;
    let plan: Plan;
    try {
      plan = planLayout(loadConfig(config.path).model, { imageSize: config.imageSizeBytes });
    } catch {
      continue; // a deliberate refusal; the differential suites cover it
    }
    if (!plan.steps.every((step) => SUPPORTED_ACTIONS.has(step.action))) continue;
    if (!KERNEL_HAS_STACKS && plan.steps.some((step) => STACK_ACTIONS.has(step.action))) continue;
    const mountsVfat = plan.mounts.some(
      (m) => plan.filesystems.find((f) => f.name === m.base)?.type === "vfat",
    );
    if (mountsVfat) continue;
    chosen.push({ config, plan });
  }
  return chosen;
}

/** Each file system's own checker, read-only, on a read-only loop device over just its bytes. */
const CHECKERS: Record<string, (device: string) => string[]> = {
  ext2: (device) => ["e2fsck", "-fn", device],
  ext3: (device) => ["e2fsck", "-fn", device],
  ext4: (device) => ["e2fsck", "-fn", device],
  xfs: (device) => ["xfs_repair", "-n", device],
  vfat: (device) => ["fsck.vfat", "-n", device],
  btrfs: (device) => ["btrfs", "check", "--readonly", device],
};

function checkFilesystem(image: string, offset: number, sizeBytes: number, type: string): void {
  const checker = CHECKERS[type];
  if (!checker) return;
  const loop = run([
    "losetup",
    "--show",
    "--find",
    "--read-only",
    "--offset",
    String(offset),
    "--sizelimit",
    String(sizeBytes),
    image,
  ]).trim();
  try {
    run(checker(loop));
  } finally {
    run(["losetup", "--detach", loop]);
  }
}

describe("device mode on the differential corpus", { skip }, () => {
  const configs = skip ? [] : candidates();

  it("has enough configs to mean something", () => {
    assert.ok(configs.length >= 15, `only ${configs.length} corpus configs are device-mode candidates`);
  });

  for (const { config, plan } of configs) {
    it(config.path, () => {
      const dir = join(work, config.path.replace(/[^\w.-]+/g, "_"));
      mkdirSync(dir, { recursive: true });
      const params = join(dir, "params.yaml");
      writeFileSync(
        params,
        [
          `config: ${join(process.cwd(), config.path)}`,
          `image-dir: ${join(dir, "images")}`,
          `image-size: ${config.imageSizeBytes}`,
          `mount-base: ${join(dir, "mnt")}`,
          `build-dir: ${dir}`,
          "",
        ].join("\n"),
      );
      const cli = (...args: string[]) => runCli(["--params", params, ...args]);
      try {
        assert.equal(cli("init").status, 0);
        const created = cli("create");
        assert.equal(created.status, 0, created.stderr);
        assert.equal(mountsUnder(join(dir, "mnt")).length, plan.mounts.length);
        assert.equal(cli("writefstab").status, 0);
        const fstab = readFileSync(join(dir, "built/etc/fstab"), "utf8");
        assert.equal(fstab.trim().split("\n").filter(Boolean).length, plan.fstab.length);
        assert.equal(cli("umount").status, 0);
        assert.deepEqual(loopDevicesUnder(dir), []);

        for (const disk of plan.disks) {
          const image = join(dir, "images", `${disk.name}.raw`);
          if (disk.label !== null) {
            const table = readSfdisk(image);
            assert.equal(table.label, disk.label === "mbr" ? "dos" : "gpt");
            const read = table.partitions.map((p) => [Number(/(\d+)$/.exec(p.node)![1]), p.start, p.size]);
            assert.deepEqual(
              read,
              disk.partitions.map((p) => [p.number, p.startSector, p.sizeSectors]),
              `${disk.name}: partition table`,
            );
          }
          // Every file system on this disk, found by blkid at its planned offset with its label and type.
          for (const fs of plan.filesystems) {
            const partition = disk.partitions.find((p) => p.name === fs.base);
            const offset = partition ? partition.startBytes : fs.base === disk.name ? 0 : undefined;
            if (offset === undefined) continue;
            const found = run(["blkid", "-p", "-O", String(offset), "-o", "export", image]);
            const type = fs.type === "fat" ? "vfat" : fs.type;
            assert.match(found, new RegExp(`^TYPE=${type}$`, "m"), `${fs.name} at ${offset}`);
            checkFilesystem(image, offset, partition ? partition.sizeBytes : disk.sizeBytes, type);
            assert.match(
              found,
              new RegExp(`^LABEL=${fs.label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"),
              `${fs.name} label`,
            );
          }
        }
      } finally {
        cli("delete");
        releaseEverythingUnder(dir);
      }
      assert.deepEqual(loopDevicesUnder(dir), []);
    });
  }
});
