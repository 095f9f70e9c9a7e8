/**
 * Offline LVM end to end: `blocksmith build` writes the PV labels and VG metadata itself, and these tests
 * read them back with lvm2's own tools (pvck, vgck, pvs/lvs; test/helpers/lvm.ts). The same
 * VG is made by the real pvcreate/vgcreate/lvcreate on a copy of the partition table, and both must
 * agree extent for extent. Each LV is cut out of the image where lvm says it is, and checked by its
 * file system's own tools and a read-only kernel mount; guestfish (its own kernel, with device-mapper)
 * activates the VG and reads the whole tree.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { guestfishAvailable, guestfishTree } from "../helpers/guestfish.js";
import { deviceSuite, run, withMountedReadOnly } from "../helpers/devices.js";
import { extractLv, lvm, lvmOutput, lvmView, withPvLoops, type LvmView } from "../helpers/lvm.js";
import { listTree, makeTree, ownedBy } from "../helpers/tree.js";
import type { Plan } from "../../src/plan/types.js";

const SEED = "3c1f0e2d-4b5a-4978-8a6b-5c4d3e2f1a0b";
const EPOCH = "1700000000";
const SIZE = "320MiB";

// Two PVs (25 and 38 extents of 4 MiB): lv_root (45 extents) fills pv_b and goes on into pv_a, so its
// file system is made apart and copied into two pieces; lv_swap and lv_var follow on pv_a.
const CONFIG = `
- local_loop: { name: image0 }
- partitioning:
    base: image0
    label: gpt
    partitions:
      - name: ESP
        type: "EF00"
        size: 64MiB
        mkfs: { type: vfat, label: ESP, mount: { mount_point: /boot/efi, fstab: {} } }
      - { name: pv_a, type: "8E00", size: 101MiB }
      - { name: pv_b, type: "8E00", size: 100% }
- lvm:
    name: lvm
    pvs:
      - { name: pv1, base: pv_a }
      - { name: pv2, base: pv_b }
    vgs:
      - { name: bs_offline_vg, base: [pv1, pv2] }
    lvs:
      - { name: lv_root, base: bs_offline_vg, size: 180M }
      - { name: lv_swap, base: bs_offline_vg, size: 8M }
      - { name: lv_var, base: bs_offline_vg, extents: 100%FREE }
- mkfs: { name: fs_root, base: lv_root, type: ext4, label: root, mount: { mount_point: /, fstab: {} } }
- mkfs: { name: fs_swap, base: lv_swap, type: swap, label: swap0 }
- mkfs: { name: fs_var, base: lv_var, type: ext4, label: var, mount: { mount_point: /var, fstab: {} } }
`;
const VG = "bs_offline_vg";
const PV_PARTITIONS = ["pv_a", "pv_b"];

const { skip, work } = deviceSuite("blocksmith-offline-lvm-");
let tree = "";
let config = "";

function build(out: string): string {
  const image = join(out, "disk.img");
  const result = runCli(["build", config, "-o", image, "--size", SIZE, "--root", tree, "--seed", SEED], {
    env: { SOURCE_DATE_EPOCH: EPOCH },
  });
  assert.equal(result.status, 0, result.stderr);
  return image;
}

function planOf(): Plan {
  const result = runCli(["plan", config, "--size", SIZE, "--json"]);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Plan;
}

function blkid(file: string): Record<string, string> {
  const text = run(["blkid", "-p", "-o", "export", file]);
  return Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string]),
  );
}

before(() => {
  if (skip) return;
  tree = join(work, "tree");
  makeTree(tree);
  config = join(work, "lvm.yaml");
  writeFileSync(config, CONFIG);
});

describe("blocksmith build with LVM (offline)", { skip }, () => {
  let image = "";
  let view: LvmView;

  it("writes PV labels and VG metadata that lvm's own checkers accept", () => {
    const out = join(work, "first");
    mkdirSync(out);
    image = build(out);
    view = withPvLoops(image, PV_PARTITIONS, false, (devices) => {
      for (const device of devices) {
        const check = lvmOutput(devices, ["pvck", device]);
        assert.match(check.stderr + check.stdout, /Found label on .*sector 1, type=LVM2 001/);
        assert.doesNotMatch(check.stderr, /checksum|bad|invalid/i);
      }
      lvm(devices, ["vgck", VG]);
      return lvmView(devices, VG);
    });
    const plan = planOf();
    const vg = plan.volumeGroups[0]!;
    assert.equal(Number(view.extentSize), vg.extentSizeBytes);
    assert.deepEqual(
      view.pvs.map((pv) => [Number(pv.pe_start), Number(pv.pv_pe_count), Number(pv.dev_size)]),
      vg.physicalVolumes.map((pv) => [pv.peStartBytes, pv.extentCount, pv.sizeBytes]),
    );
    const extentsOf = (lv: string) =>
      view.segments.filter((s) => s.lv === lv).reduce((sum, s) => sum + s.extents, 0);
    for (const lv of plan.logicalVolumes) assert.equal(extentsOf(lv.name), lv.extents, lv.name);
    assert.equal(view.segments.filter((s) => s.lv === "lv_root").length, 2, "lv_root spans both PVs");
  });

  it("puts the extents where lvcreate puts them: the real tools on the same partitions agree", () => {
    const reference = join(work, "reference.img");
    run(["truncate", "-s", SIZE, reference]);
    run(["sfdisk", "--no-reread", "--no-tell-kernel", reference], run(["sfdisk", "--dump", image]));
    const real = withPvLoops(reference, PV_PARTITIONS, true, (devices) => {
      lvm(devices, ["pvcreate", "-q", ...devices]);
      lvm(devices, ["vgcreate", "-q", VG, ...devices]);
      lvm(devices, ["lvcreate", "-q", "-an", "-Zn", "-L", "180M", "-n", "lv_root", VG]);
      lvm(devices, ["lvcreate", "-q", "-an", "-Zn", "-L", "8M", "-n", "lv_swap", VG]);
      lvm(devices, ["lvcreate", "-q", "-an", "-Zn", "-l", "100%FREE", "-n", "lv_var", VG]);
      return lvmView(devices, VG);
    });
    rmSync(reference, { force: true });
    assert.deepEqual(view, real);
  });

  it("puts each file system into its LV, filled from its subtree", () => {
    const root = extractLv(image, PV_PARTITIONS, view, "lv_root", join(work, "lv_root.ext4"));
    const varLv = extractLv(image, PV_PARTITIONS, view, "lv_var", join(work, "lv_var.ext4"));
    const swap = extractLv(image, PV_PARTITIONS, view, "lv_swap", join(work, "lv_swap"));
    run(["e2fsck", "-fn", root]);
    run(["e2fsck", "-fn", varLv]);
    assert.deepEqual(
      [root, varLv, swap].map((file) => [blkid(file).TYPE, blkid(file).LABEL]),
      [
        ["ext4", "root"],
        ["ext4", "var"],
        ["swap", "swap0"],
      ],
    );
    const rootListing = withMountedReadOnly(root, work, (dir) => {
      assert.match(readFileSync(join(dir, "etc/fstab"), "utf8"), /LABEL=var\s+\/var\s+ext4/);
      return listTree(dir, ["var", "boot/efi"]);
    });
    rootListing.delete("etc/fstab");
    const source = ownedBy(listTree(tree, ["var", "boot/efi"]), 0);
    source.delete("etc/fstab");
    assert.deepEqual(rootListing, source);
    const varListing = withMountedReadOnly(varLv, work, (dir) => listTree(dir));
    assert.deepEqual(varListing, ownedBy(listTree(join(tree, "var")), 0));
  });

  it("is reproducible: the same seed and SOURCE_DATE_EPOCH give the same bytes, LVM ids included", () => {
    const out = join(work, "second");
    mkdirSync(out);
    const again = build(out);
    const digest = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
    assert.equal(digest(again), digest(image));
    rmSync(out, { recursive: true, force: true });
  });

  it("guestfish (its own kernel, with device-mapper) activates the VG and reads every file", (t) => {
    if (!guestfishAvailable(t)) return;
    const { tree: extracted } = guestfishTree(
      image,
      [
        ["run"],
        ["vg-activate", "true", VG],
        ["mount", `/dev/${VG}/lv_root`, "/"],
        ["mount", `/dev/${VG}/lv_var`, "/var"],
      ],
      work,
    );
    const listing = listTree(extracted, ["boot/efi"]);
    for (const path of [...listing.keys()])
      if (path.endsWith("lost+found") || path === "etc/fstab") listing.delete(path);
    const source = ownedBy(listTree(tree, ["boot/efi"]), 0);
    source.delete("etc/fstab");
    // /var seen from above is the var file system's root directory, made at SOURCE_DATE_EPOCH.
    source.set("var", { ...source.get("var")!, mtime: Number(EPOCH) });
    assert.deepEqual(listing, source);
  });
});

describe("blocksmith build refuses LVM it cannot write (offline)", { skip }, () => {
  it("refuses thin LVs and lvm options before writing anything", () => {
    const out = join(work, "refusals");
    mkdirSync(out);
    const cases: [string, RegExp][] = [
      [
        CONFIG.replace(
          "{ name: lv_var, base: bs_offline_vg, extents: 100%FREE }",
          "{ name: pool, base: bs_offline_vg, size: 40M, type: thin-pool }\n      - { name: lv_var, base: bs_offline_vg, size: 20M, type: thin, thin-pool: pool }",
        ),
        /LV "pool" is thin-pool; offline LVs are linear/,
      ],
      [
        CONFIG.replace(
          "{ name: pv1, base: pv_a }",
          '{ name: pv1, base: pv_a, options: ["--metadatasize", "2m"] }',
        ),
        /pvcreate options of "pv1" \(--metadatasize 2m\)/,
      ],
    ];
    for (const [text, message] of cases) {
      const file = join(out, "config.yaml");
      writeFileSync(file, text);
      const result = runCli(["build", file, "-o", join(out, "disk.img"), "--size", SIZE]);
      assert.equal(result.status, 3, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /build in device mode/);
    }
    assert.deepEqual(readdirSync(out), ["config.yaml"], "nothing but the config is left");
    rmSync(out, { recursive: true, force: true });
  });
});
