/**
 * Device mode with stacked level-1 devices (md RAID, LUKS, LVM) on loop devices, in a kernel that has
 * device-mapper and md (the VM: `npm run test:vm`). For each config: `create` makes what the plan says
 * (checked with pvs/vgs/lvs, cryptsetup luksDump, mdadm, blockdev, blkid), a file written into every
 * mount is read back after `umount` and a re-open by hand, and `umount` + `cleanup` leave nothing
 * active. Fault injection at every step of the deepest stack must roll everything back. The LUKS+LVM
 * image is kept in dist/vm-artifacts for the guestfish check outside the VM (test/image-check).
 *
 * Every test releases what it created (mounts, mappings, VGs, arrays, loop devices), even when it fails,
 * and only those: names come from the test's own plan.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCreate } from "../../src/device/executor.js";
import { readParams } from "../../src/config/params.js";
import type { Plan } from "../../src/plan/types.js";
import { createKilledAt, REPO_ROOT, runCli } from "../helpers/cli.js";
import {
  loopDevicesUnder,
  mountsUnder,
  releaseEverythingUnder,
  run,
  stackSuite,
} from "../helpers/devices.js";

const { skip, work } = stackSuite("blocksmith-stacks-");

/** Where the finished LUKS+LVM image is left for test/image-check (outside the VM). */
const ARTIFACTS = join(REPO_ROOT, "dist", "vm-artifacts");

const KEY = "correct horse battery staple";
const PASSPHRASE = "a passphrase typed by a person";

/** partition → LUKS2 → LVM → ext4, and a vfat ESP next to it. */
const LUKS_LVM = (dir: string) => `
- local_loop: {name: image0, size: 300MiB}
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: ESP, type: "EF00", size: 32MiB, mkfs: {type: vfat, label: efi, mount: {mount_point: /boot/efi, fstab: {}}}}
      - {name: crypt_part, size: 100%}
- luks: {name: bsA_crypt, base: crypt_part, type: luks2, pbkdf: pbkdf2, iter-time: 10, key-file: ${dir}/key}
- lvm:
    name: lvm
    pvs: [{name: pvA, base: bsA_crypt}]
    vgs: [{name: bsA_vg, base: [pvA]}]
    lvs:
      - {name: lv_root, base: bsA_vg, size: 100M}
      - {name: lv_data, base: bsA_vg, extents: 100%FREE}
- mkfs: {name: fs_root, base: lv_root, type: ext4, label: root, mount: {mount_point: /, fstab: {}}}
- mkfs: {name: fs_data, base: lv_data, type: ext4, label: data, mount: {mount_point: /data, fstab: {}}}
`;

/** partition (of two images) → RAID1 → LVM → LUKS1 (passphrase file) → ext4. */
const RAID_LVM_LUKS = (dir: string) => `
- local_loop: {name: image0, size: 160MiB}
- local_loop: {name: image1, size: 160MiB}
- partitioning: {base: image0, label: mbr, partitions: [{name: m0, size: 100%, type: "0xfd"}]}
- partitioning: {base: image1, label: mbr, partitions: [{name: m1, size: 100%, type: "0xfd"}]}
- raid: {name: bsB_md, base: [m0, m1], level: 1}
- lvm:
    name: lvm
    pvs: [{name: pvB, base: bsB_md}]
    vgs: [{name: bsB_vg, base: [pvB]}]
    lvs:
      - {name: lv_sec, base: bsB_vg, size: 64M}
      - {name: lv_srv, base: bsB_vg, extents: 40%VG}
- luks: {name: bsB_crypt, base: lv_sec, type: luks1, cipher: aes-cbc-essiv:sha256, key-size: 256, iter-time: 10, passphrase-file: ${dir}/passphrase}
- mkfs: {name: fs_root, base: bsB_crypt, type: ext4, label: root, mount: {mount_point: /, fstab: {}}}
- mkfs: {name: fs_srv, base: lv_srv, type: ext4, label: srv, mount: {mount_point: /srv, fstab: {}}}
`;

/** The fault-injection stack: partitions → RAID1 → LVM → LUKS2 → ext4, on one image (fewer steps). */
const FAULT_STACK = (dir: string) => `
- local_loop: {name: image0, size: 200MiB}
- partitioning:
    base: image0
    label: mbr
    partitions: [{name: m0, size: 90MiB, type: "0xfd"}, {name: m1, size: 90MiB, type: "0xfd"}]
- raid: {name: bsF_md, base: [m0, m1], level: 1}
- lvm:
    name: lvm
    pvs: [{name: pvF, base: bsF_md}]
    vgs: [{name: bsF_vg, base: [pvF]}]
    lvs: [{name: lv_sec, base: bsF_vg, extents: 100%FREE}]
- luks: {name: bsF_crypt, base: lv_sec, pbkdf: pbkdf2, iter-time: 10, key-file: ${dir}/key}
- mkfs: {name: fs_root, base: bsF_crypt, type: ext4, label: root, mount: {mount_point: /, fstab: {}}}
`;

/** LVM over partitions of two images: a VG spanning both, a second VG, a thin pool with a thin LV. */
const LVM_TWO_IMAGES = `
- local_loop: {name: image0, size: 200MiB}
- local_loop: {name: image1, size: 260MiB}
- partitioning: {base: image0, label: gpt, partitions: [{name: p0, size: 100%, type: "8E00"}]}
- partitioning:
    base: image1
    label: gpt
    partitions: [{name: p1, size: 200MiB, type: "8E00"}, {name: p2, size: 100%, type: "8E00"}]
- lvm:
    name: lvm
    pvs: [{name: pv0, base: p0}, {name: pv1, base: p1}, {name: pv2, base: p2}]
    vgs: [{name: bsC_big, base: [pv0, pv1]}, {name: bsC_small, base: [pv2]}]
    lvs:
      - {name: lv_span, base: bsC_big, extents: 60%VG}
      - {name: pool, base: bsC_big, size: 80M, type: thin-pool}
      - {name: lv_thin, base: bsC_big, size: 200M, type: thin, thin-pool: pool}
      - {name: lv_small, base: bsC_small, extents: 100%FREE}
- mkfs: {name: fs_span, base: lv_span, type: ext4, label: span, mount: {mount_point: /, fstab: {}}}
- mkfs: {name: fs_thin, base: lv_thin, type: ext4, label: thin, mount: {mount_point: /thin, fstab: {}}}
- mkfs: {name: fs_small, base: lv_small, type: vfat, label: small, mount: {mount_point: /small, fstab: {}}}
`;

/** md levels 0, 5 and 10 over partitions of one image. */
const RAID_LEVELS = `
- local_loop: {name: image0, size: 300MiB}
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: r0a, size: 40MiB}
      - {name: r0b, size: 40MiB}
      - {name: r5a, size: 40MiB}
      - {name: r5b, size: 40MiB}
      - {name: r5c, size: 40MiB}
      - {name: r10a, size: 40MiB}
      - {name: r10b, size: 40MiB}
- raid: {name: bsD_r0, base: [r0a, r0b], level: 0}
- raid: {name: bsD_r5, base: [r5a, r5b, r5c], level: 5}
- raid: {name: bsD_r10, base: [r10a, r10b], level: 10}
- mkfs: {name: fs_r0, base: bsD_r0, type: ext4, label: r0, mount: {mount_point: /, fstab: {}}}
- mkfs: {name: fs_r5, base: bsD_r5, type: ext4, label: r5, mount: {mount_point: /r5, fstab: {}}}
- mkfs: {name: fs_r10, base: bsD_r10, type: ext4, label: r10, mount: {mount_point: /r10, fstab: {}}}
`;

interface Build {
  dir: string;
  params: string;
  images: Record<string, string>;
}

let counter = 0;
function setup(config: (dir: string) => string): Build {
  counter += 1;
  const dir = join(work, `build${counter}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "key"), KEY, { mode: 0o600 });
  writeFileSync(join(dir, "passphrase"), `${PASSPHRASE}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "config.yaml"), config(dir));
  const params = join(dir, "params.yaml");
  writeFileSync(
    params,
    [
      `config: ${join(dir, "config.yaml")}`,
      `image-dir: ${join(dir, "images")}`,
      "image-size: 1GiB",
      `mount-base: ${join(dir, "mnt")}`,
      `build-dir: ${dir}`,
      "",
    ].join("\n"),
  );
  return { dir, params, images: {} };
}

function cli(build: Build, ...args: string[]) {
  return runCli(["--params", build.params, ...args]);
}

function runIn(argv: string[], input?: string): string {
  return run(argv, input);
}

function planOf(build: Build): Plan {
  return JSON.parse(readFileSync(join(build.dir, "states/block-device/plan.json"), "utf8")) as Plan;
}

function mappings(): string[] {
  const out = spawnSync("dmsetup", ["ls"], { encoding: "utf8" }).stdout;
  return out
    .split("\n")
    .map((line) => line.split(/\s+/)[0] ?? "")
    .filter((name) => name !== "" && name !== "No");
}

/** What of this plan is still active: mappings, VGs' LVs, md arrays. */
function activeStack(plan: Plan): string[] {
  const ours = (name: string) =>
    plan.encrypted.some((e) => e.name === name) ||
    plan.volumeGroups.some((vg) => name.startsWith(`${vg.name.replace(/-/g, "--")}-`));
  const left = mappings().filter(ours);
  const mdstat = readFileSync("/proc/mdstat", "utf8");
  for (const raid of plan.raids) if (existsSync(raid.device)) left.push(`${raid.device} (${mdstat.trim()})`);
  return left;
}

/** Releases this plan's stack in a safe order, tolerating what is already gone (for `finally`). */
function releaseStack(plan: Plan, dir: string): void {
  for (const target of mountsUnder(dir).sort((a, b) => b.length - a.length))
    spawnSync("umount", ["--lazy", target]);
  for (let round = 0; round < 3; round += 1) {
    for (const volume of plan.encrypted)
      if (existsSync(`/dev/mapper/${volume.name}`)) spawnSync("cryptsetup", ["close", volume.name]);
    for (const vg of plan.volumeGroups) spawnSync("vgchange", ["--activate", "n", vg.name]);
    for (const raid of plan.raids) if (existsSync(raid.device)) spawnSync("mdadm", ["--stop", raid.device]);
  }
  releaseEverythingUnder(dir);
}

function assertNothingLeft(plan: Plan, dir: string): void {
  assert.deepEqual(activeStack(plan), [], "mappings or md arrays left behind");
  const vgs = spawnSync("vgs", ["--noheadings", "-o", "vg_name,lv_count", "--select", "lv_active=active"], {
    encoding: "utf8",
  }).stdout;
  for (const vg of plan.volumeGroups)
    assert.doesNotMatch(vgs, new RegExp(`\\b${vg.name}\\b`), `${vg.name} active`);
  assert.deepEqual(loopDevicesUnder(dir), [], "loop devices left behind");
  assert.deepEqual(mountsUnder(dir), [], "mounts left behind");
}

interface LvmReport {
  report: { vg?: Record<string, string>[]; lv?: Record<string, string>[]; pv?: Record<string, string>[] }[];
}

function lvmJson(argv: string[]): Record<string, string>[] {
  const report = JSON.parse(
    runIn([...argv, "--reportformat", "json", "--units", "b", "--nosuffix"]),
  ) as LvmReport;
  const part = report.report[0]!;
  return part.vg ?? part.lv ?? part.pv ?? [];
}

function sizeOf(device: string): number {
  return Number(runIn(["blockdev", "--getsize64", device]).trim());
}

/** The tools, not blocksmith, read back every VG, LV, LUKS header, md array and file system. */
function checkAgainstPlan(plan: Plan, devices: Record<string, string>): void {
  for (const vg of plan.volumeGroups) {
    const [report] = lvmJson([
      "vgs",
      "-o",
      "vg_name,vg_extent_size,vg_extent_count,vg_free_count,pv_count",
      vg.name,
    ]);
    assert.equal(Number(report!.vg_extent_size), vg.extentSizeBytes, `${vg.name} extent size`);
    assert.equal(Number(report!.vg_extent_count), vg.extentCount, `${vg.name} extents`);
    assert.equal(Number(report!.vg_free_count), vg.freeExtents, `${vg.name} free extents`);
    assert.equal(Number(report!.pv_count), vg.physicalVolumes.length, `${vg.name} PVs`);
    for (const pv of vg.physicalVolumes) {
      const [pvReport] = lvmJson(["pvs", "-o", "pv_name,pe_start,pv_pe_count", devices[pv.base]!]);
      assert.equal(Number(pvReport!.pe_start), pv.peStartBytes, `${pv.name} pe_start`);
      assert.equal(Number(pvReport!.pv_pe_count), pv.extentCount, `${pv.name} extents`);
    }
  }
  for (const lv of plan.logicalVolumes) {
    const [report] = lvmJson(["lvs", "-o", "lv_name,lv_size,lv_attr", `${lv.volumeGroup}/${lv.name}`]);
    const vg = plan.volumeGroups.find((v) => v.name === lv.volumeGroup)!;
    assert.equal(Number(report!.lv_size), lv.sizeBytes, `${lv.name} size`);
    assert.equal(Number(report!.lv_size) / vg.extentSizeBytes, lv.extents, `${lv.name} extents`);
    const kind = { linear: "-", "thin-pool": "t", thin: "V" }[lv.lvType];
    assert.equal(report!.lv_attr![0], kind, `${lv.name} type (lv_attr ${report!.lv_attr})`);
    if (lv.lvType !== "thin-pool") assert.ok(existsSync(lv.device), lv.device);
  }
  for (const volume of plan.encrypted) {
    const base = devices[volume.base]!;
    if (volume.luksType === "luks2") {
      const meta = JSON.parse(runIn(["cryptsetup", "luksDump", "--dump-json-metadata", base])) as {
        keyslots: Record<string, { key_size: number; kdf: { type: string } }>;
        segments: Record<string, { offset: string; encryption: string }>;
      };
      assert.equal(meta.segments["0"]!.encryption, volume.cipher);
      assert.equal(Number(meta.segments["0"]!.offset), volume.payloadOffsetBytes);
      assert.equal(meta.keyslots["0"]!.key_size * 8, volume.keySizeBits);
      assert.equal(meta.keyslots["0"]!.kdf.type, volume.pbkdf);
    } else {
      const dump = runIn(["cryptsetup", "luksDump", base]);
      const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, "m").exec(dump)?.[1]?.trim();
      assert.equal(field("Version"), "1");
      assert.equal(`${field("Cipher name")}-${field("Cipher mode")}`, volume.cipher);
      assert.equal(Number(field("MK bits")), volume.keySizeBits);
      assert.equal(Number(field("Payload offset")) * 512, volume.payloadOffsetBytes);
      assert.match(dump, /Iterations:/, "LUKS1 keyslots use PBKDF2");
    }
    assert.equal(sizeOf(volume.device), volume.sizeBytes, `${volume.name} mapped size`);
  }
  for (const raid of plan.raids) {
    const detail = runIn(["mdadm", "--detail", "--export", raid.device]);
    assert.match(detail, new RegExp(`^MD_LEVEL=raid${raid.level}$`, "m"));
    assert.match(detail, new RegExp(`^MD_METADATA=${raid.metadata}$`, "m"));
    assert.match(detail, new RegExp(`^MD_DEVICES=${raid.bases.length}$`, "m"));
    assert.match(detail, new RegExp(`^MD_NAME=any:${raid.name}$`, "m"), "homehost any");
    assert.equal(sizeOf(raid.device), raid.sizeBytes, `${raid.name} size`);
    const examine = runIn(["mdadm", "--examine", devices[raid.bases[0]!]!]);
    const offset = /Data Offset : (\d+) sectors/.exec(examine)?.[1];
    assert.equal(Number(offset) * 512, raid.dataOffsetBytes, `${raid.name} data offset`);
  }
  for (const fs of plan.filesystems) {
    const found = runIn(["blkid", "-p", "-o", "export", devices[fs.base]!]);
    assert.match(found, new RegExp(`^TYPE=${fs.type}$`, "m"), `${fs.name} type`);
    assert.match(found, new RegExp(`^LABEL=${fs.label}$`, "m"), `${fs.name} label`);
  }
}

/** Device paths of every block device in the plan while `create`'s stack is up (from state.json). */
function devicesFromState(build: Build): Record<string, string> {
  const state = JSON.parse(readFileSync(join(build.dir, "states/block-device/state.json"), "utf8")) as {
    blockdev: Record<string, { device: string }>;
  };
  return Object.fromEntries(Object.entries(state.blockdev).map(([name, entry]) => [name, entry.device]));
}

function keyInput(plan: Plan, name: string): { argv: string[]; input?: string } {
  const volume = plan.encrypted.find((e) => e.name === name)!;
  return volume.keySource!.kind === "key-file"
    ? { argv: ["--key-file", volume.keySource!.path] }
    : { argv: ["--key-file", "-"], input: PASSPHRASE };
}

/**
 * Attaches the images again and brings the stack up by hand, in plan order, with the tools only
 * (no blocksmith): the way the booted system, or a person, would. Mounts every file system under
 * `target`.
 */
function reopen(plan: Plan, target: string): Record<string, string> {
  const devices: Record<string, string> = {};
  for (const disk of plan.disks) {
    const loop = runIn(["losetup", "--show", "--find", "--partscan", disk.path]).trim();
    devices[disk.name] = loop;
    for (const partition of disk.partitions) devices[partition.name] = `${loop}p${partition.number}`;
  }
  // udev may assemble the arrays and activate the VGs itself (incremental assembly, autoactivation).
  spawnSync("udevadm", ["settle"]);
  for (const step of plan.steps) {
    if (step.action === "mdadm-create") {
      const raid = plan.raids.find((r) => r.name === step.node)!;
      const members = raid.bases.map((base) => devices[base]!);
      if (!existsSync(raid.device)) {
        // udev's incremental assembly may be half way (an inactive /dev/mdNNN holding some members, the
        // /dev/md/NAME link not there yet): stop what holds the members, then assemble by name.
        for (const holder of new Set(members.flatMap(mdHolders)))
          spawnSync("mdadm", ["--stop", `/dev/${holder}`]);
        runIn(["mdadm", "--assemble", raid.device, ...members]);
      }
      devices[raid.name] = raid.device;
    } else if (step.action === "luksOpen") {
      const volume = plan.encrypted.find((e) => e.name === step.node)!;
      const key = keyInput(plan, volume.name);
      runIn(["cryptsetup", "open", ...key.argv, devices[volume.base]!, volume.name], key.input);
      devices[volume.name] = volume.device;
    } else if (step.action === "vgcreate") {
      runIn(["vgchange", "--activate", "y", step.node]);
      for (const lv of plan.logicalVolumes.filter((l) => l.volumeGroup === step.node))
        devices[lv.name] = lv.device;
    } else if (step.action === "mount") {
      const mount = plan.mounts.find((m) => m.name === step.node)!;
      const fs = plan.filesystems.find((f) => f.name === mount.base)!;
      const at = join(target, mount.mountPoint);
      mkdirSync(at, { recursive: true });
      runIn(["mount", devices[fs.base]!, at]);
    }
  }
  return devices;
}

/** The md arrays that hold a block device (its holders in sysfs). */
function mdHolders(device: string): string[] {
  const dir = `/sys/class/block/${device.replace(/^\/dev\//, "")}/holders`;
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith("md")) : [];
}

function fileIn(mountPoint: string): string {
  return `hello from ${mountPoint}\n`;
}

// Top-level tests (no describe), so that each result is printed as soon as it is known.
{
  const it = (name: string, fn: () => void | Promise<void>) => test(name, { skip }, fn);
  const configs: [string, (dir: string) => string][] = [
    ["partition → LUKS2 → LVM → ext4, with a vfat ESP", LUKS_LVM],
    ["two images: partitions → RAID1 → LVM → LUKS1 (passphrase file) → ext4", RAID_LVM_LUKS],
    [
      "LVM over partitions of two images: spanning VG, second VG, thin pool and thin LV, vfat",
      () => LVM_TWO_IMAGES,
    ],
    ["md RAID 0, 5 and 10 over partitions", () => RAID_LEVELS],
  ];
  for (const [title, config] of configs) {
    it(title, () => {
      const build = setup(config);
      let plan: Plan | undefined;
      try {
        assert.equal(cli(build, "init").status, 0);
        plan = planOf(build);
        const created = cli(build, "create", "--seed", "vm-seed");
        assert.equal(created.status, 0, created.stderr);
        const devices = devicesFromState(build);
        checkAgainstPlan(plan, devices);
        // Every planned mount is mounted; write a file into each.
        for (const mount of plan.mounts) {
          const at = join(build.dir, "mnt", mount.mountPoint);
          assert.ok(mountsUnder(build.dir).includes(at.replace(/\/$/, "")), `${at} mounted`);
          writeFileSync(join(at, "hello.txt"), fileIn(mount.mountPoint));
        }
        assert.equal(cli(build, "writefstab").status, 0);
        if (plan.encrypted.length > 0) {
          const crypttab = readFileSync(join(build.dir, "built/etc/crypttab"), "utf8");
          const expected = plan.encrypted.map((volume) => {
            const uuid = runIn(["cryptsetup", "luksUUID", devices[volume.base]!]).trim();
            const key = volume.keySource?.kind === "key-file" ? volume.keySource.path : "none";
            return `${volume.name} UUID=${uuid} ${key} luks\n`;
          });
          assert.equal(crypttab, expected.join(""));
          assert.doesNotMatch(
            readFileSync(join(build.dir, "states/block-device/state.json"), "utf8"),
            /horse|typed/,
          );
        }
        const blockDevices = cli(build, "getval", "image-block-devices").stdout;
        for (const lv of plan.logicalVolumes)
          assert.match(blockDevices, new RegExp(`\\[${lv.name}\\]=${lv.device} `));

        assert.equal(cli(build, "umount").status, 0);
        assertNothingLeft(plan, build.dir);

        // Re-open by hand and read every file back.
        const again = join(build.dir, "again");
        reopen(plan, again);
        try {
          for (const mount of plan.mounts)
            assert.equal(
              readFileSync(join(again, mount.mountPoint, "hello.txt"), "utf8"),
              fileIn(mount.mountPoint),
            );
        } finally {
          releaseStack(plan, build.dir);
        }
        assertNothingLeft(plan, build.dir);

        assert.equal(cli(build, "cleanup").status, 0);
        assert.equal(existsSync(join(build.dir, "states/block-device")), false);
        assertNothingLeft(plan, build.dir);
        if (config === LUKS_LVM) keepForImageCheck(plan, build);
      } finally {
        if (plan) releaseStack(plan, build.dir);
      }
    });
  }

  it("a failure at any step of RAID1 → LVM → LUKS rolls back every mapping, VG, array and loop device", async () => {
    const build = setup(FAULT_STACK);
    assert.equal(cli(build, "init").status, 0);
    const plan = planOf(build);
    const { params } = readParams(build.params);
    try {
      // In-process: a node start costs seconds in the VM, and there is a create per step.
      for (let step = 0; step < plan.steps.length; step += 1) {
        await assert.rejects(
          runCreate(params, { log: () => undefined, failBeforeStep: step }),
          new RegExp(`fault injected before step ${step}`),
        );
        assertNothingLeft(plan, build.dir);
        for (const disk of plan.disks)
          assert.equal(existsSync(disk.path), false, `step ${step}: ${disk.path}`);
      }
    } finally {
      releaseStack(plan, build.dir);
    }
  });

  it("SIGKILL with md, VG, LVs and LUKS held, then delete, leaves nothing behind", async () => {
    const build = setup(FAULT_STACK);
    assert.equal(cli(build, "init").status, 0);
    const plan = planOf(build);
    const after = (action: string) => plan.steps.findLastIndex((step) => step.action === action) + 1;
    // Killed right after each layer is up (a CLI start costs seconds here, so not at every step).
    const steps = [...new Set([after("mdadm-create"), after("lvcreate"), after("luksOpen"), after("mount")])];
    assert.ok(
      steps.every((step) => step > 0 && step <= plan.steps.length),
      JSON.stringify(steps),
    );
    try {
      for (const step of steps) {
        if (step === plan.steps.length) continue; // nothing to pause before
        await createKilledAt(build.params, step);
        const deleted = cli(build, "delete");
        assert.equal(deleted.status, 0, `killed before step ${step}: ${deleted.stderr}`);
        assertNothingLeft(plan, build.dir);
        for (const disk of plan.disks)
          assert.equal(existsSync(disk.path), false, `killed before step ${step}: ${disk.path}`);
        assert.equal(cli(build, "init").status, 0);
      }
    } finally {
      cli(build, "delete");
      releaseStack(plan, build.dir);
    }
  });

  it("refuses a VG name the host already has, before touching anything", () => {
    const build = setup(FAULT_STACK);
    // The "host's" VG, made by hand with the name the config wants.
    const image = join(build.dir, "host-vg.raw");
    writeFileSync(image, "");
    runIn(["truncate", "--size", "64M", image]);
    const loop = runIn(["losetup", "--show", "--find", image]).trim();
    try {
      runIn(["vgcreate", "--devices", loop, "bsF_vg", loop]);
      assert.equal(cli(build, "init").status, 0);
      const refused = cli(build, "create");
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /volume group "bsF_vg" already exists on this host/);
      assert.equal(existsSync(join(build.dir, "images")), false, "no image was made");
      assert.deepEqual(
        loopDevicesUnder(build.dir).map((l) => l.name),
        [loop],
      );
    } finally {
      spawnSync("vgchange", ["--devices", loop, "--activate", "n", "bsF_vg"]);
      spawnSync("vgremove", ["--devices", loop, "--force", "--force", "bsF_vg"]);
      spawnSync("losetup", ["--detach", loop]);
    }
  });
}

/** Copies the finished image, its key and what was written into it to dist/vm-artifacts. */
function keepForImageCheck(plan: Plan, build: Build): void {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const disk = plan.disks[0]!;
  spawnSync("cp", ["--sparse=always", disk.path, join(ARTIFACTS, "luks-lvm.raw")]);
  copyFileSync(join(build.dir, "key"), join(ARTIFACTS, "key"));
  const volume = plan.encrypted[0]!;
  const partition = disk.partitions.find((p) => p.name === volume.base)!;
  writeFileSync(
    join(ARTIFACTS, "luks-lvm.json"),
    JSON.stringify({
      image: "luks-lvm.raw",
      luksPartition: partition.number,
      luksName: volume.name,
      volumeGroup: plan.volumeGroups[0]!.name,
      files: plan.mounts.map((mount) => {
        const fs = plan.filesystems.find((f) => f.name === mount.base)!;
        const lv = plan.logicalVolumes.find((l) => l.name === fs.base);
        return { device: lv?.device, mountPoint: mount.mountPoint, content: fileIn(mount.mountPoint) };
      }),
    }),
  );
}
