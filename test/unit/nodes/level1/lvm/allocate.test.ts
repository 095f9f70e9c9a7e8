import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allocateLinear } from "../../../../../src/nodes/level1/lvm/allocate.js";

/** "pv:first-last" per segment, as `lvs -o seg_pe_ranges` prints them (PVs by index). */
function ranges(pvExtents: number[], lvExtents: number[]): string[][] {
  const result = allocateLinear(
    pvExtents,
    lvExtents.map((extents, index) => ({ name: `lv${index + 1}`, extents })),
  );
  return lvExtents.map((_, index) =>
    result
      .get(`lv${index + 1}`)!
      .map((s) => `${s.pv}:${s.pvStartExtent}-${s.pvStartExtent + s.extentCount - 1}`),
  );
}

// Each case was measured with lvm2 2.03.16 (pvcreate, vgcreate, one `lvcreate -an -Zn` per LV with
// activation off, then `lvs -o lv_name,seg_pe_ranges`) on loop devices of the PV sizes given.
describe("LV allocation (lvcreate's normal policy in a new VG)", () => {
  it("fills the first PV, then goes on to the next when both tails are equal or the first is larger", () => {
    // PVs of 64 and 40 MiB; -L 20M, -L 60M
    assert.deepEqual(ranges([15, 9], [5, 15]), [["0:0-4"], ["0:5-14", "1:0-4"]]);
    // two PVs of 100 MiB; -L 150M
    assert.deepEqual(ranges([24, 24], [38]), [["0:0-23", "1:0-13"]]);
    // three PVs of 64 MiB; -L 100M
    assert.deepEqual(ranges([15, 15, 15], [25]), [["0:0-14", "1:0-9"]]);
  });

  it("puts an LV whole into the first tail that holds it, in VG order, not the largest", () => {
    // PVs of 64 and 200 MiB; -L 40M, -L 60M
    assert.deepEqual(ranges([15, 49], [10, 15]), [["0:0-9"], ["1:0-14"]]);
    // PVs of 124 and 52 MiB; -L 40M: the first PV, not the one it fits best
    assert.deepEqual(ranges([30, 12], [10]), [["0:0-9"]]);
    // PVs of 124, 52 and 84 MiB; -L 100M, -L 40M
    assert.deepEqual(ranges([30, 12, 20], [25, 10]), [["0:0-24"], ["1:0-9"]]);
    // PVs of 100 and 60 MiB; -L 30M, -L 30M, -L 50M
    assert.deepEqual(ranges([24, 14], [8, 8, 13]), [["0:0-7"], ["0:8-15"], ["1:0-12"]]);
  });

  it("takes the largest tail when none holds the LV, then places the rest again", () => {
    // PVs of 64, 200 and 100 MiB; -L 40M, -L 150M, -l 100%FREE
    assert.deepEqual(ranges([15, 49, 24], [10, 38, 40]), [
      ["0:0-9"],
      ["1:0-37"],
      ["2:0-23", "1:38-48", "0:10-14"],
    ]);
    // two PVs of 64 MiB; -L 20M, -l 100%FREE
    assert.deepEqual(ranges([15, 15], [5, 25]), [["0:0-4"], ["1:0-14", "0:5-14"]]);
    // PVs of 52, 124 and 84 MiB; -L 160M: the rest (10) goes to the first tail that holds it, not the larger
    assert.deepEqual(ranges([12, 30, 20], [40]), [["1:0-29", "0:0-9"]]);
    // PVs of 100, 52 and 200 MiB; -L 40M, -L 300M
    assert.deepEqual(ranges([24, 12, 49], [10, 75]), [["0:0-9"], ["2:0-48", "0:10-23", "1:0-11"]]);
  });

  it("numbers segments in LV order", () => {
    const segments = allocateLinear([15, 49, 24], [{ name: "big", extents: 88 }]).get("big")!;
    assert.deepEqual(
      segments.map((s) => [s.lvStartExtent, s.extentCount]),
      [
        [0, 49],
        [49, 24],
        [73, 15],
      ],
    );
  });

  it("refuses to allocate more than the VG has (the planner reports it to the user first)", () => {
    assert.throws(() => allocateLinear([15, 15], [{ name: "lv", extents: 31 }]), /needs 1 more extents/);
  });
});
