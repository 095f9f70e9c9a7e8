import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { layoutProblems, oneProblem, planOf } from "../../helpers/config.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("planner: stacks", () => {
  it("partition → LUKS2 → LVM → mkfs: each layer's size follows from the one below", () => {
    const plan = planOf(`
- local_loop: {name: image0, size: 4GiB}
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: boot, size: 512MiB, mkfs: {name: fs_boot, type: ext4, label: boot, mount: {mount_point: /boot}}}
      - {name: crypt_part, size: 100%}
- luks: {name: cryptroot, base: crypt_part, key-file: /etc/keys/root.key}
- lvm:
    name: lvm
    pvs: [{name: pv, base: cryptroot}]
    vgs: [{name: vg, base: [pv]}]
    lvs:
      - {name: root, base: vg, size: 1G}
      - {name: home, base: vg, extents: 100%FREE}
- mkfs: {name: fs_root, base: root, type: xfs, label: root, mount: {mount_point: /}}
- mkfs: {name: fs_home, base: home, type: ext4, label: home, mount: {mount_point: /home}}
`);
    const part = plan.disks[0]!.partitions.find((p) => p.name === "crypt_part")!;
    const luks = plan.encrypted[0]!;
    assert.equal(luks.baseSizeBytes, part.sizeBytes);
    assert.equal(luks.payloadOffsetBytes, 16 * MiB);
    assert.equal(luks.sizeBytes, part.sizeBytes - 16 * MiB);
    const vg = plan.volumeGroups[0]!;
    assert.equal(vg.extentCount, Math.floor((luks.sizeBytes - MiB) / (4 * MiB)));
    const [root, home] = plan.logicalVolumes;
    assert.equal(root!.sizeBytes, GiB);
    assert.equal(home!.extents, vg.extentCount - 256);
    assert.equal(vg.freeExtents, 0);
    assert.equal(plan.filesystems.find((f) => f.name === "fs_home")!.sizeBytes, home!.sizeBytes);
    assert.deepEqual(
      plan.mounts.map((m) => m.mountPoint),
      ["/", "/boot", "/home"],
    );
    const format = plan.steps.find((s) => s.action === "luksFormat")!;
    assert.ok(format.argv.includes("--key-file") && format.argv.includes("/etc/keys/root.key"));
    // Steps come in creation order: the volume is opened before LVM uses it.
    const index = (node: string, action: string) =>
      plan.steps.findIndex((s) => s.node === node && s.action === action);
    assert.ok(index("cryptroot", "luksOpen") < index("pv", "pvcreate"));
    assert.ok(index("root", "lvcreate") < index("fs_root", "mkfs"));
  });

  it("RAID1 over partitions of two images, LVM on the array", () => {
    const plan = planOf(`
- local_loop: {name: a, size: 2GiB}
- local_loop: {name: b, size: 2GiB}
- partitioning: {base: a, label: mbr, partitions: [{name: a1, size: 100%}]}
- partitioning: {base: b, label: mbr, partitions: [{name: b1, size: 100%}]}
- raid: {name: md0, base: [a1, b1], level: 1}
- lvm:
    name: lvm
    pvs: [{name: pv, base: md0}]
    vgs: [{name: vg, base: [pv]}]
    lvs: [{name: data, base: vg, extents: 100%VG}]
- mkfs: {name: fs, base: data, type: ext4, mount: {mount_point: /}}
`);
    const raid = plan.raids[0]!;
    const member = plan.disks[0]!.partitions[0]!;
    // RAID1: the array is one member's data area (after the 1.2 superblock's data offset).
    assert.ok(raid.memberSizeBytes <= member.sizeBytes - raid.dataOffsetBytes);
    assert.equal(raid.sizeBytes, raid.memberSizeBytes);
    assert.ok(raid.sizeBytes > member.sizeBytes - 4 * MiB);
    assert.equal(plan.logicalVolumes[0]!.extents, plan.volumeGroups[0]!.extentCount);
    assert.deepEqual(plan.steps.find((s) => s.action === "mdadm-create")!.argv.slice(0, 4), [
      "mdadm",
      "--create",
      "/dev/md/md0",
      "--run",
    ]);
  });

  it("a thin pool and thin volumes", () => {
    const plan = planOf(`
- local_loop: {name: image0, size: 8GiB}
- lvm:
    name: lvm
    pvs: [{name: pv, base: image0}]
    vgs: [{name: vg, base: [pv]}]
    lvs:
      - {name: pool, base: vg, type: thin-pool, size: 4G}
      - {name: thin1, base: vg, type: thin, thin-pool: pool, size: 20G}
- mkfs: {name: fs, base: thin1, type: ext4, mount: {mount_point: /}}
`);
    const thin = plan.logicalVolumes.find((lv) => lv.name === "thin1")!;
    assert.equal(thin.sizeBytes, 20 * GiB);
    assert.equal(plan.filesystems[0]!.sizeBytes, 20 * GiB);
    const argv = plan.steps.find((s) => s.node === "thin1")!.argv;
    assert.deepEqual(argv, ["lvcreate", "--name", "thin1", "-V", "20G", "--thin", "vg/pool"]);
  });
});

describe("planner: refusals with their config path", () => {
  it("an LV that does not fit says by how much, at the LV's size key", () => {
    const problem = oneProblem(
      layoutProblems(`
- local_loop: {name: image0, size: 1GiB}
- lvm:
    name: lvm
    pvs: [{name: pv, base: image0}]
    vgs: [{name: vg, base: [pv]}]
    lvs: [{name: big, base: vg, size: 2G}]
`),
      /short/,
    );
    assert.deepEqual(problem.at?.path, [1, "lvm", "lvs", 0, "size"]);
    assert.equal(problem.at?.line, 7);
  });

  it("partitions that do not fit point at the partition", () => {
    const problem = oneProblem(
      layoutProblems(`
- local_loop: {name: image0, size: 100MiB}
- partitioning:
    base: image0
    label: mbr
    partitions:
      - {name: a, size: 60MiB}
      - {name: b, size: 60MiB}
`),
      /does not fit/,
    );
    assert.deepEqual(problem.at?.path, [1, "partitioning", "partitions", 1, "size"]);
  });

  it("an xfs below mkfs.xfs's 300 MiB minimum", () => {
    oneProblem(
      layoutProblems(`
- local_loop: {name: image0, size: 200MiB}
- mkfs: {name: fs, base: image0, type: xfs}
`),
      /xfs needs at least 314572800 bytes/,
    );
  });

  it("a disk size that is not whole sectors, and a missing size", () => {
    oneProblem(
      layoutProblems(`- local_loop: {name: image0, size: 1000001}\n`),
      /not a whole number of 512-byte sectors/,
    );
    oneProblem(layoutProblems(`- local_loop: {name: image0}\n`, {}), /has no size/);
  });
});
