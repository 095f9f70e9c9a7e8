import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderBar, renderPlan, table } from "../../../src/cli/render-plan.js";
import { planOf } from "../../helpers/config.js";

describe("plan rendering", () => {
  const plan = planOf(`
- local_loop: {name: image0, size: 1GiB}
- partitioning:
    base: image0
    label: mbr
    partitions:
      - {name: boot, flags: [primary, boot], size: 256MiB}
      - {name: data, size: 100%, mkfs: {name: fs_data, type: ext4, label: data, mount: {mount_point: /srv}}}
`);

  it("draws each partition in proportion, the extended container not as a partition", () => {
    const bar = renderBar(plan.disks[0]!).split("\n")[0]!;
    assert.equal(bar.length, 2 + 72);
    const boot = /\[boot=*\]/.exec(bar)![0];
    // 256 MiB of 1 GiB is a quarter of the 72 cells.
    assert.ok(Math.abs(boot.length - 18) <= 1, bar);
    assert.match(bar, /\[data=*\]/);
    assert.doesNotMatch(bar, /extended/);
  });

  it("lists partitions with what they hold, mounts in order and fstab", () => {
    const text = renderPlan(plan);
    assert.match(text, /^ {2}5 +data +logical +/m);
    assert.match(text, /ext4 "data" → \/srv/);
    assert.match(text, /1\. \/srv/);
  });

  it("aligns table columns", () => {
    assert.equal(table(["a", "bb"], [["xxx", "y"]]), "  a    bb\n  ---  --\n  xxx  y");
  });
});
