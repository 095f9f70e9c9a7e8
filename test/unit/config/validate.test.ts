import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configProblems, load, oneProblem, planOf } from "../../helpers/config.js";

const disk = `
- local_loop:
    name: image0
`;

describe("validation: schemas", () => {
  it("names unknown keys with a did-you-mean and the key's line", () => {
    const problem = oneProblem(
      configProblems(`${disk}
- mkfs:
    name: fs
    base: image0
    type: ext4
    lable: root
`),
      /unknown key "lable"/,
    );
    assert.equal(problem.hint, 'did you mean "label"?');
    assert.equal(problem.at?.line, 9);
    assert.deepEqual(problem.at?.path, [1, "mkfs", "lable"]);
  });

  it("locates problems inside partitions of the tree form", () => {
    const problem = oneProblem(
      configProblems(`${disk}
- partitioning:
    base: image0
    label: gpt
    partitions:
      - name: root
        sise: 1G
`),
      /unknown key "sise"/,
    );
    assert.deepEqual(problem.at?.path, [1, "partitioning", "partitions", 0, "sise"]);
    assert.equal(problem.at?.line, 10);
  });

  it("reports missing required keys and invalid enum values with hints", () => {
    const problems = configProblems(`${disk}
- partitioning:
    base: image0
    label: gtp
    partitions:
      - name: root
`);
    assert.match(oneProblem(problems, /not a valid label/).hint ?? "", /did you mean "gpt"/);
    oneProblem(problems, /needs `size`/);
  });

  it("reports bad sizes with the accepted syntax", () => {
    const problem = oneProblem(
      configProblems(`
- local_loop:
    name: image0
    size: 3 gigs
`),
      /invalid size/,
    );
    assert.match(problem.message, /KiB\/MiB/);
  });

  it("collects every problem in one pass", () => {
    const problems = configProblems(`
- local_loop: {name: image0, size: x}
- mkfs: {name: a, base: image0, type: ext5}
- mount: {name: m, base: a, mount_point: 3}
`);
    assert.equal(problems.length, 3);
  });
});

describe("validation: references", () => {
  it("refuses a dangling base with a suggestion", () => {
    const problem = oneProblem(
      configProblems(`${disk}
- mkfs: {name: fs, base: imag0, type: ext4}
`),
      /does not name any entry/,
    );
    assert.equal(problem.hint, 'did you mean "image0"?');
    assert.equal(problem.at?.line, 5);
  });

  it("refuses a base of the wrong kind", () => {
    oneProblem(
      configProblems(`${disk}
- mkfs: {name: fs, base: image0, type: ext4}
- mount: {name: m, base: image0, mount_point: /}
`),
      /must be based on a mkfs entry, but "image0" is a local_loop/,
    );
  });

  it("refuses duplicate names, including derived ones", () => {
    oneProblem(
      configProblems(`${disk}
- local_loop: {name: image0}
`),
      /"image0" is already used/,
    );
    const problem = oneProblem(
      configProblems(`${disk}
- mkfs: {base: image0, type: ext4}
- mkfs: {base: image0, type: xfs}
`),
      /"mkfs_image0" is already used/,
    );
    assert.match(problem.hint ?? "", /explicit `name:`/);
  });

  it("refuses two things on one device", () => {
    oneProblem(
      configProblems(`${disk}
- mkfs: {name: a, base: image0, type: ext4}
- mkfs: {name: b, base: image0, type: xfs}
`),
      /already used by mkfs "a"/,
    );
  });

  it("prints a dependency cycle", () => {
    const problem = oneProblem(
      configProblems(`
- luks: {name: a, base: b}
- luks: {name: b, base: a}
`),
      /dependency cycle/,
    );
    assert.match(problem.message, /a → b → a|b → a → b/);
  });
});

describe("validation: file systems and mounts", () => {
  it("checks label length per file system type", () => {
    oneProblem(
      configProblems(`${disk}
- mkfs: {name: fs, base: image0, type: xfs, label: cloudimg-rootfs}
`),
      /15 bytes long; xfs allows at most 12/,
    );
    oneProblem(
      configProblems(`${disk}
- mkfs: {name: fs, base: image0, type: vfat, label: toolongforfat}
`),
      /vfat allows at most 11/,
    );
  });

  it("defaults the label to the node name, upper-cased for vfat (DIB)", () => {
    const { model } = load(`${disk}
- mkfs: {name: esp, base: image0, type: vfat}
`);
    const mkfs = model.nodes.get("esp");
    assert.equal(mkfs?.kind === "mkfs" && mkfs.label, "ESP");
  });

  it("refuses duplicate labels and mount points", () => {
    oneProblem(
      configProblems(`
- local_loop: {name: a}
- local_loop: {name: b}
- mkfs: {name: x, base: a, type: ext4, label: same}
- mkfs: {name: y, base: b, type: ext4, label: same}
`),
      /label "same" is already used/,
    );
    oneProblem(
      configProblems(`
- local_loop: {name: a}
- local_loop: {name: b}
- mkfs: {name: x, base: a, type: ext4}
- mkfs: {name: y, base: b, type: ext4}
- mount: {name: mx, base: x, mount_point: /srv}
- mount: {name: my, base: y, mount_point: /srv}
`),
      /mount point "\/srv" is already used/,
    );
  });

  it("refuses relative mount points and '..'", () => {
    oneProblem(
      configProblems(`${disk}
- mkfs: {name: x, base: image0, type: ext4}
- mount: {name: m, base: x, mount_point: ../etc}
`),
      /not absolute/,
    );
  });

  it("refuses GPT-only and MBR-only misuse", () => {
    oneProblem(
      configProblems(`${disk}
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: root, size: 1G, flags: [primary]}
`),
      /primary flag exists only for MBR/,
    );
    oneProblem(
      configProblems(`${disk}
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: a-very-long-partition-name-of-37-chars, size: 1G}
`),
      /at most 36 UTF-16/,
    );
  });

  it("accepts hybrid-mbr on GPT and plans the partition numbers in the order listed", () => {
    const text = `${disk}
- partitioning:
    base: image0
    label: gpt
    hybrid-mbr: [root, esp]
    partitions:
      - {name: bios, size: 1MiB, type: EF02}
      - {name: esp, size: 64MiB, type: EF00}
      - {name: root, size: 1G, flags: [boot]}
`;
    const node = load(text).model.nodes.get("partitioning:partitioning_image0");
    assert.deepEqual(node?.kind === "partitioning" ? node.hybridMbr : undefined, ["root", "esp"]);
    assert.deepEqual(planOf(text).disks[0]?.hybridMbr, [3, 2]);
  });

  it("refuses hybrid-mbr on MBR labels, with unknown or repeated names, and past 3 names", () => {
    const onMbr = oneProblem(
      configProblems(`${disk}
- partitioning:
    base: image0
    label: mbr
    hybrid-mbr: [root]
    partitions:
      - {name: root, size: 1G}
`),
      /hybrid-mbr exists only for GPT/,
    );
    assert.deepEqual(onMbr.at?.path, [1, "partitioning", "hybrid-mbr"]);
    assert.equal(onMbr.at?.line, 8);

    const problems = configProblems(`${disk}
- partitioning:
    base: image0
    label: gpt
    hybrid-mbr: [esp, roots, esp, data]
    partitions:
      - {name: esp, size: 64MiB, type: EF00}
      - {name: root, size: 1G}
      - {name: data, size: 1G}
`);
    const unknown = oneProblem(problems, /"roots" is not a partition of this partitioning/);
    assert.equal(unknown.hint, 'did you mean "root"?');
    assert.deepEqual(unknown.at?.path, [1, "partitioning", "hybrid-mbr", 1]);
    const twice = oneProblem(problems, /"esp" is listed twice/);
    assert.deepEqual(twice.at?.path, [1, "partitioning", "hybrid-mbr", 2]);
    const tooMany = oneProblem(problems, /at most 3 partitions/);
    assert.deepEqual(tooMany.at?.path, [1, "partitioning", "hybrid-mbr", 3]);
  });

  it("computes a creation order with parents first and mounts in mount order", () => {
    const { model } = load(`${disk}
- partitioning:
    base: image0
    label: mbr
    partitions:
      - name: p1
        size: 1G
        mkfs: {name: fs_var, type: ext4, mount: {mount_point: /var}}
      - name: p2
        size: 1G
        mkfs: {name: fs_root, type: ext4, mount: {mount_point: /}}
`);
    const at = (name: string) => model.order.indexOf(name);
    assert.ok(at("image0") < at("partitioning:partitioning_image0"));
    assert.ok(at("partitioning:partitioning_image0") < at("p1") && at("p1") < at("p2"));
    assert.ok(at("mount_fs_root") < at("mount_fs_var"));
    assert.deepEqual(model.mountOrder, ["mount_fs_root", "mount_fs_var"]);
  });
});
