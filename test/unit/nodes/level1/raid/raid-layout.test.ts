import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { LayoutProblem } from "../../../../../src/core/errors.js";
import {
  layoutRaid,
  MD_MIN_MEMBERS,
  type RaidLevel,
  type RaidMetadata,
} from "../../../../../src/nodes/level1/raid/raid-layout.js";
import { field, measurements, numberField } from "../measurements.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const LEVELS: RaidLevel[] = [0, 1, 5, 6, 10];
const METADATA: RaidMetadata[] = ["1.2", "1.1", "1.0", "0.90"];

describe("layoutRaid", () => {
  test("1.2 on small members: 1 MiB data offset for RAID1, 2 MiB (two chunks of headroom) for striped levels", () => {
    const mirror = layoutRaid({ level: 1, memberSizesBytes: [64 * MiB, 64 * MiB] });
    assert.deepEqual(
      [mirror.dataOffsetBytes, mirror.memberSizeBytes, mirror.sizeBytes, mirror.superblockOffsetBytes],
      [MiB, 64512 * KiB, 64512 * KiB, 4096],
    );
    const raid5 = layoutRaid({ level: 5, memberSizesBytes: [64 * MiB, 64 * MiB, 64 * MiB] });
    assert.deepEqual(
      [raid5.dataOffsetBytes, raid5.memberSizeBytes, raid5.sizeBytes],
      [2 * MiB, 62 * MiB, 124 * MiB],
    );
  });

  test("1.2 headroom grows with the first member: 3 MiB at 3 GiB, 65 MiB at 101 GiB, 129 MiB at 300 GiB", () => {
    assert.equal(layoutRaid({ level: 1, memberSizesBytes: [3 * GiB, 3 * GiB] }).dataOffsetBytes, 3 * MiB);
    const big = layoutRaid({ level: 1, memberSizesBytes: [101 * GiB, 101 * GiB] });
    assert.deepEqual(
      [big.dataOffsetBytes, big.memberSizeBytes, big.bitmap],
      [65 * MiB, 105839616 * KiB, true],
    );
    assert.equal(
      layoutRaid({ level: 1, memberSizesBytes: [300 * GiB, 300 * GiB] }).dataOffsetBytes,
      129 * MiB,
    );
  });

  test("the first member decides the data offset for all", () => {
    const small = layoutRaid({ level: 1, memberSizesBytes: [100 * MiB, 64 * MiB, GiB] });
    const large = layoutRaid({ level: 1, memberSizesBytes: [GiB, 64 * MiB, 100 * MiB] });
    assert.deepEqual([small.dataOffsetBytes, small.sizeBytes], [MiB, 64512 * KiB]);
    assert.deepEqual([large.dataOffsetBytes, large.sizeBytes], [2 * MiB, 63488 * KiB]);
  });

  test("RAID0 sums every member's chunk-rounded space; RAID10 n2 halves whole chunks", () => {
    assert.equal(
      layoutRaid({ level: 0, memberSizesBytes: [100 * MiB, 64 * MiB, GiB] }).sizeBytes,
      1210368 * KiB,
    );
    assert.equal(
      layoutRaid({ level: 10, metadata: "1.0", memberSizesBytes: [100 * MiB, 100 * MiB, 100 * MiB] })
        .sizeBytes,
      152576 * KiB,
    );
  });

  test("1.0 and 0.90 keep the start of each member free and put the superblock at the end", () => {
    const v10 = layoutRaid({ level: 1, metadata: "1.0", memberSizesBytes: [64 * MiB, 64 * MiB] });
    assert.deepEqual(
      [v10.dataOffsetBytes, v10.sizeBytes, v10.superblockOffsetBytes],
      [0, 65472 * KiB, 131056 * 512],
    );
    const v090 = layoutRaid({ level: 5, metadata: "0.90", memberSizesBytes: [GiB, GiB, GiB] });
    assert.deepEqual(
      [v090.dataOffsetBytes, v090.sizeBytes, v090.superblockOffsetBytes],
      [0, 2096128 * KiB, (2097152 - 128) * 512],
    );
  });

  test("refuses member counts and members mdadm refuses", () => {
    assert.throws(() => layoutRaid({ level: 1, memberSizesBytes: [GiB] }), /at least 2 members, not 1/);
    assert.throws(() => layoutRaid({ level: 6, memberSizesBytes: [GiB, GiB, GiB] }), /at least 4 members/);
    assert.throws(
      () => layoutRaid({ level: 0, metadata: "0.90", memberSizesBytes: [GiB, GiB] }),
      /RAID0 with 0.90/,
    );
    assert.throws(
      () => layoutRaid({ level: 5, memberSizesBytes: [2 * MiB, 2 * MiB, 2 * MiB] }),
      (error: unknown) =>
        error instanceof LayoutProblem && error.itemIndex === 0 && /no room for data/.test(error.message),
    );
    assert.throws(() => layoutRaid({ level: 1, memberSizesBytes: [MiB, MiB] }), /no room for data/);
  });

  test("property: the array never holds more than its members, sizes are whole chunks, offsets whole MiB", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LEVELS),
        fc.constantFrom(...METADATA),
        fc.array(
          fc.integer({ min: 256 * MiB, max: 400 * GiB }).map((bytes) => bytes - (bytes % 512)),
          {
            minLength: 4,
            maxLength: 8,
          },
        ),
        (level, metadata, members) => {
          if (level === 0 && metadata === "0.90") return;
          const layout = layoutRaid({ level, metadata, memberSizesBytes: members });
          const total = members.reduce((sum, bytes) => sum + bytes, 0);
          assert.ok(layout.sizeBytes > 0 && layout.sizeBytes <= total);
          assert.equal(layout.dataOffsetBytes % MiB, 0);
          for (const used of layout.usedBytesPerMember)
            assert.ok(used <= Math.min(...members) || level === 0);
          if (level !== 1) assert.equal(layout.sizeBytes % layout.chunkSizeBytes, 0);
          const member = layout.memberSizeBytes;
          if (level === 1) assert.equal(layout.sizeBytes, member);
          if (level === 5) assert.equal(layout.sizeBytes, member * (members.length - 1));
          if (level === 6) assert.equal(layout.sizeBytes, member * (members.length - 2));
          if (level === 10) assert.ok(layout.sizeBytes <= (member * members.length) / 2);
          if (metadata === "1.0" || metadata === "0.90") {
            const reversed = layoutRaid({ level, metadata, memberSizesBytes: [...members].reverse() });
            assert.equal(reversed.sizeBytes, layout.sizeBytes);
          }
        },
      ),
    );
  });

  test("minimum member counts", () => {
    assert.deepEqual(MD_MIN_MEMBERS, { 0: 2, 1: 2, 5: 2, 6: 4, 10: 2 });
  });
});

describe("replays mdadm 4.2 measurements", () => {
  const records = measurements("raid");
  test("the fixture has the arrays", () => {
    assert.ok(records.length > 150);
  });
  for (const record of records) {
    const level = numberField(record, "level") as RaidLevel;
    const metadata = field(record, "metadata") as RaidMetadata;
    const members = field(record, "members").split(",").map(Number);
    const sizes = members.map((bytes) => (bytes % MiB === 0 ? `${bytes / MiB}M` : String(bytes))).join(",");
    test(`line ${record.line}: RAID${level} ${metadata} on ${sizes}`, () => {
      const attempt = () => layoutRaid({ level, metadata, memberSizesBytes: members });
      if (record.fields.error !== undefined) {
        assert.throws(attempt, LayoutProblem, `mdadm said "${record.fields.error}"`);
        return;
      }
      const layout = attempt();
      for (const offset of field(record, "data_offset_sectors").split(",")) {
        assert.equal(layout.dataOffsetBytes, Number(offset) * 512, "data offset");
      }
      assert.equal(layout.sizeBytes, numberField(record, "md_bytes"), "array size");
      assert.equal(layout.sizeBytes, numberField(record, "array_kib") * KiB, "Array Size");
      if (field(record, "used_dev_kib") !== "none") {
        assert.equal(layout.memberSizeBytes, numberField(record, "used_dev_kib") * KiB, "Used Dev Size");
      }
      if (field(record, "super_offset_sectors") !== "none") {
        assert.equal(
          layout.superblockOffsetBytes,
          numberField(record, "super_offset_sectors") * 512,
          "Super Offset",
        );
      }
      const chunk = field(record, "chunk_kib");
      assert.equal(layout.chunkSizeBytes, chunk === "none" ? 0 : Number(chunk) * KiB, "chunk");
      assert.equal(layout.bitmap, field(record, "bitmap") === "yes", "bitmap");
    });
  }
});
