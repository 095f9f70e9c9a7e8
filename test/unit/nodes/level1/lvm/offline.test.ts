import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfigText } from "../../../../../src/config/load.js";
import { UnsupportedError } from "../../../../../src/core/errors.js";
import { identifierSource } from "../../../../../src/formats/identifiers.js";
import { checkOfflineLvm, layoutOfflineLvm } from "../../../../../src/nodes/level1/lvm/offline.js";
import { planLayout } from "../../../../../src/plan/planner.js";

const MiB = 1024 * 1024;

function config(pvOptions: string, vgOptions: string, lvOptions: string): string {
  return `
- local_loop: { name: image0, size: 300MiB }
- partitioning:
    base: image0
    label: gpt
    partitions:
      - { name: pa, size: 101MiB }
      - { name: pb, size: 100% }
- lvm:
    name: lvm
    pvs:
      - { name: pv1, base: pa${pvOptions} }
      - { name: pv2, base: pb }
    vgs:
      - { name: vg, base: [pv1, pv2]${vgOptions} }
    lvs:
      - { name: big, base: vg, size: 200M${lvOptions} }
      - { name: small, base: vg, extents: 100%FREE }
`;
}

function load(text: string) {
  const { model } = loadConfigText(text, "test.yaml");
  return { model, plan: planLayout(model, {}) };
}

describe("offline lvm", () => {
  it("accepts options that do not change the metadata, as DIB's own LVM element passes them", () => {
    const { model, plan } = load(
      config(', options: ["--force"]', ', options: ["--force", "-s", "8M"]', ', options: ["-Zn", "--yes"]'),
    );
    assert.doesNotThrow(() => checkOfflineLvm(model, plan));
    assert.equal(plan.volumeGroups[0]!.extentSizeBytes, 8 * MiB);
  });

  it("refuses options whose effect on the metadata only lvm knows, naming each", () => {
    const { model, plan } = load(
      config(
        ', options: ["--metadatasize", "2m"]',
        ', options: ["--alloc", "anywhere"]',
        ', options: ["-i", "2"]',
      ),
    );
    assert.throws(
      () => checkOfflineLvm(model, plan),
      (error: unknown) =>
        error instanceof UnsupportedError &&
        /pvcreate options of "pv1" \(--metadatasize 2m\)/.test(error.message) &&
        /vgcreate options of "vg" \(--alloc anywhere\)/.test(error.message) &&
        /lvcreate options of "big" \(-i 2\)/.test(error.message),
    );
  });

  it("maps each LV to its pieces in the image, merging none across PVs", () => {
    const { plan } = load(config("", "", ""));
    const starts = new Map([
      ["pa", 1 * MiB],
      ["pb", 102 * MiB],
    ]);
    const lvm = layoutOfflineLvm({
      plan,
      locate: (base) => ({ file: "image", offsetBytes: starts.get(base)! }),
      ids: identifierSource("00000000-0000-4000-8000-000000000000"),
      creationTime: 1700000000,
      creationHost: "blocksmith",
      description: "test",
    });
    // pv1: 25 extents, pv2: 49 (198 MiB); big (50 extents) fills pv2 and takes 1 of pv1.
    const big = lvm.pieces.get("big")!;
    assert.deepEqual(
      big.map((p) => [p.lvOffsetBytes / MiB, p.fileOffsetBytes / MiB, p.lengthBytes / MiB]),
      [
        [0, 103, 196],
        [196, 2, 4],
      ],
    );
    assert.deepEqual(
      lvm.pieces
        .get("small")!
        .map((p) => [p.lvOffsetBytes / MiB, p.fileOffsetBytes / MiB, p.lengthBytes / MiB]),
      [[0, 6, 96]],
    );
    assert.equal(lvm.writes.length, 4, "a label and a metadata area on each PV");
  });
});
