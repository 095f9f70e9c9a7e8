import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadConfigText } from "../../../src/config/load.js";
import { isBelow, planPopulation } from "../../../src/offline/populate.js";
import { planLayout } from "../../../src/plan/planner.js";

const NESTED = `
- local_loop: { name: image0, size: 2GiB }
- partitioning:
    base: image0
    label: gpt
    partitions:
      - name: root
        size: 800MiB
        mkfs: { type: ext4, mount: { mount_point: /, fstab: {} } }
      - name: var
        size: 300MiB
        mkfs: { type: ext4, mount: { mount_point: /var, fstab: {} } }
      - name: log
        size: 200MiB
        mkfs: { type: ext4, mount: { mount_point: /var/log, fstab: {} } }
      - name: esp
        size: 100MiB
        mkfs: { type: vfat, mount: { mount_point: /boot/efi, fstab: {} } }
      - name: data
        size: 100MiB
        mkfs: { type: ext4 }
`;

describe("planPopulation", () => {
  const plan = planLayout(loadConfigText(NESTED, "nested.yaml").model);

  it("gives each mounted file system its subtree and only the mount points directly below it", () => {
    const populations = planPopulation(plan, "/src/tree");
    const byPoint = new Map(populations.map((p) => [p.mountPoint, p]));
    assert.deepEqual([...byPoint.keys()].sort(), ["/", "/boot/efi", "/var", "/var/log"]);
    assert.deepEqual(byPoint.get("/")!.mountPointDirs, ["boot/efi", "var"]);
    assert.equal(byPoint.get("/")!.source, "/src/tree");
    assert.deepEqual(byPoint.get("/var")!.mountPointDirs, ["log"]);
    assert.equal(byPoint.get("/var")!.source, "/src/tree/var");
    assert.deepEqual(byPoint.get("/var/log")!.mountPointDirs, []);
    assert.equal(byPoint.get("/boot/efi")!.filesystem, "mkfs_esp");
  });

  it("puts /etc/fstab, in mount order, into the root file system only", () => {
    const populations = planPopulation(plan, null);
    const root = populations.find((p) => p.mountPoint === "/")!;
    assert.equal(root.source, null);
    assert.deepEqual(
      root.files.map((f) => f.path),
      ["etc/fstab"],
    );
    assert.deepEqual(
      root.files[0]!.content.trim()
        .split("\n")
        .map((line) => line.split(" ")[1]),
      ["/", "/boot/efi", "/var", "/var/log"],
    );
    for (const other of populations.filter((p) => p.mountPoint !== "/")) assert.deepEqual(other.files, []);
  });

  it("isBelow is strict and compares whole path components", () => {
    assert.ok(isBelow("/var", "/"));
    assert.ok(isBelow("/var/log", "/var"));
    assert.ok(!isBelow("/variable", "/var"));
    assert.ok(!isBelow("/var", "/var"));
    const segment = fc.stringMatching(/^[a-z]{1,4}$/);
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.array(segment, { minLength: 1, maxLength: 3 }),
        (outer, extra) => {
          const o = `/${outer.join("/")}`;
          assert.ok(isBelow(`${o}/${extra.join("/")}`, o));
          assert.ok(!isBelow(o, `${o}/${extra.join("/")}`));
          assert.ok(isBelow(o, "/"));
        },
      ),
    );
  });
});
