import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { LayoutProblem } from "../../../../../src/core/errors.js";
import {
  LUKS_DEFAULTS,
  LUKS2_DEFAULT_DATA_OFFSET_BYTES,
  layoutLuks,
  type LuksLayoutInput,
  type LuksType,
  luks1PayloadOffsetBytes,
} from "../../../../../src/nodes/level1/luks/luks-layout.js";
import { field, measurementComments, measurements, numberField } from "../measurements.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("layoutLuks", () => {
  test("LUKS2: 16 MiB header for any key size", () => {
    assert.equal(LUKS2_DEFAULT_DATA_OFFSET_BYTES, 16 * MiB);
    const layout = layoutLuks({ type: "luks2", baseSizeBytes: GiB });
    assert.deepEqual(layout, {
      luksType: "luks2",
      cipher: "aes-xts-plain64",
      keySizeBits: 512,
      pbkdf: "argon2id",
      sectorSizeBytes: 512,
      payloadOffsetBytes: 16 * MiB,
      baseSizeBytes: GiB,
      sizeBytes: GiB - 16 * MiB,
    });
    assert.equal(
      layoutLuks({ type: "luks2", baseSizeBytes: GiB, keySizeBits: 256 }).payloadOffsetBytes,
      16 * MiB,
    );
  });

  test("LUKS1: 2 MiB payload offset for 512- and 256-bit keys, 1 MiB for 128-bit keys", () => {
    assert.equal(luks1PayloadOffsetBytes(512), 2 * MiB);
    assert.equal(luks1PayloadOffsetBytes(256), 2 * MiB);
    assert.equal(luks1PayloadOffsetBytes(128), MiB);
    const layout = layoutLuks({ type: "luks1", baseSizeBytes: 100 * MiB + 512 });
    assert.deepEqual(
      [layout.payloadOffsetBytes, layout.sizeBytes, layout.pbkdf],
      [2 * MiB, 98 * MiB + 512, "pbkdf2"],
    );
  });

  test("needs room for data after the header, saying how much is missing", () => {
    assert.throws(
      () => layoutLuks({ type: "luks2", baseSizeBytes: 16 * MiB }),
      (error: unknown) =>
        error instanceof LayoutProblem && /512 bytes too few/.test(error.message) && error.key === "base",
    );
    assert.equal(layoutLuks({ type: "luks2", baseSizeBytes: 16 * MiB + 4096 }).sizeBytes, 4096);
    assert.throws(() => layoutLuks({ type: "luks1", baseSizeBytes: MiB }), /too few/);
  });

  test("4 KiB encryption sectors need a data area of whole 4 KiB", () => {
    assert.equal(
      layoutLuks({ type: "luks2", baseSizeBytes: 64 * MiB, sectorSizeBytes: 4096 }).sizeBytes,
      48 * MiB,
    );
    assert.throws(
      () => layoutLuks({ type: "luks2", baseSizeBytes: 100 * MiB + 2048, sectorSizeBytes: 4096 }),
      /2048 bytes too many/,
    );
    assert.throws(
      () => layoutLuks({ type: "luks1", baseSizeBytes: GiB, sectorSizeBytes: 4096 }),
      /LUKS1 only/,
    );
  });

  test("LUKS1 keyslots are PBKDF2 even when argon2 is asked for, as cryptsetup does", () => {
    assert.equal(layoutLuks({ type: "luks1", baseSizeBytes: GiB, pbkdf: "argon2id" }).pbkdf, "pbkdf2");
    assert.equal(layoutLuks({ type: "luks2", baseSizeBytes: GiB, pbkdf: "pbkdf2" }).pbkdf, "pbkdf2");
  });

  test("refuses key sizes the cipher cannot take and malformed ciphers", () => {
    assert.throws(
      () => layoutLuks({ type: "luks1", baseSizeBytes: GiB, keySizeBits: 128 }),
      /does not take a 128-bit key/,
    );
    assert.throws(() => layoutLuks({ type: "luks2", baseSizeBytes: GiB, keySizeBits: 100 }), /multiple of 8/);
    assert.throws(() => layoutLuks({ type: "luks2", baseSizeBytes: GiB, cipher: "aes" }), /name-mode/);
    assert.equal(
      layoutLuks({ type: "luks1", baseSizeBytes: GiB, cipher: "aes-cbc-essiv:sha256", keySizeBits: 128 })
        .payloadOffsetBytes,
      MiB,
    );
  });

  test("property: header plus data is the whole device, the offset is whole MiB", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<LuksType>("luks1", "luks2"),
        fc.constantFrom(256, 512),
        fc.integer({ min: 17 * MiB, max: 2 ** 50 }),
        (type, keySizeBits, baseSizeBytes) => {
          const layout = layoutLuks({ type, baseSizeBytes, keySizeBits });
          assert.equal(layout.payloadOffsetBytes + layout.sizeBytes, baseSizeBytes - (baseSizeBytes % 512));
          assert.equal(layout.payloadOffsetBytes % MiB, 0);
          assert.ok(layout.sizeBytes > 0);
        },
      ),
    );
  });

  test("property: bigger LUKS1 keys never move the payload earlier", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 128 }), fc.integer({ min: 1, max: 128 }), (a, b) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        assert.ok(luks1PayloadOffsetBytes(small * 8) <= luks1PayloadOffsetBytes(large * 8));
      }),
    );
  });
});

/** The luksFormat argv of a fixture record → layout input (timing options do not change the layout). */
function argvToInput(type: LuksType, baseSizeBytes: number, argv: string): LuksLayoutInput {
  const input: LuksLayoutInput = { type, baseSizeBytes };
  const words = argv.split(" ").filter((word) => word !== "");
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i]!;
    const value = words[i + 1] ?? "";
    if (word === "-s") input.keySizeBits = Number(value);
    else if (word === "-c") input.cipher = value;
    else if (word === "--pbkdf") input.pbkdf = value;
    else if (word === "--sector-size") input.sectorSizeBytes = Number(value);
    else if (
      !["--pbkdf-force-iterations", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel"].includes(word)
    ) {
      throw new Error(`unknown luksFormat option ${word}`);
    }
    i += 1;
  }
  return input;
}

describe("replays cryptsetup 2.6.1 measurements", () => {
  const records = measurements("luks");
  test("the fixture has the formats", () => {
    assert.ok(records.length > 20);
  });

  test("LUKS_DEFAULTS match cryptsetup --help", () => {
    const help = measurementComments()
      .filter((line) => line.startsWith("# help: "))
      .join("\n");
    assert.match(help, /Default compiled-in metadata format is LUKS2/);
    assert.equal(LUKS_DEFAULTS.type, "luks2");
    assert.ok(
      help.includes(
        `Default PBKDF for LUKS1: ${LUKS_DEFAULTS.pbkdf.luks1}, iteration time: ${LUKS_DEFAULTS.iterationTimeMs}`,
      ),
    );
    assert.ok(help.includes(`Default PBKDF for LUKS2: ${LUKS_DEFAULTS.pbkdf.luks2}`));
    assert.ok(
      help.includes(
        `Memory required: ${LUKS_DEFAULTS.memoryKiB}kB, Parallel threads: ${LUKS_DEFAULTS.parallelThreads}`,
      ),
    );
    // --help names the per-key size; XTS doubles it (two keys), which the luksDump below confirms.
    assert.ok(help.includes(`LUKS: ${LUKS_DEFAULTS.cipher}, Key: ${LUKS_DEFAULTS.keySizeBits / 2} bits`));
    assert.ok(help.includes(`LUKS header hashing: ${LUKS_DEFAULTS.hash}`));
    assert.match(help, /Default keysize with XTS mode \(two internal keys\) will be doubled/);
  });

  test("LUKS_DEFAULTS match what luksFormat without -c/-s/--pbkdf writes", () => {
    const defaults = records.filter((record) => !/(^| )(-c|-s|--pbkdf) /.test(field(record, "argv")));
    assert.deepEqual(defaults.map((record) => field(record, "type")).sort(), ["luks1", "luks2"]);
    for (const record of defaults) {
      const type = field(record, "type") as LuksType;
      assert.equal(field(record, "cipher"), LUKS_DEFAULTS.cipher);
      assert.equal(numberField(record, "key_bits"), LUKS_DEFAULTS.keySizeBits);
      assert.equal(field(record, "pbkdf"), LUKS_DEFAULTS.pbkdf[type]);
      assert.equal(field(record, "hash"), LUKS_DEFAULTS.hash);
      assert.equal(numberField(record, "sector_bytes"), LUKS_DEFAULTS.sectorSizeBytes);
    }
  });

  for (const record of records) {
    const type = field(record, "type") as LuksType;
    const base = numberField(record, "base_bytes");
    const argv = field(record, "argv");
    test(`line ${record.line}: ${type} on ${base} bytes ${argv}`, () => {
      const attempt = () => layoutLuks(argvToInput(type, base, argv));
      const error = record.fields.error ?? record.fields.open_error;
      if (error !== undefined) {
        assert.throws(attempt, LayoutProblem, `cryptsetup said "${error}"`);
        return;
      }
      const layout = attempt();
      assert.equal(layout.payloadOffsetBytes, numberField(record, "offset_bytes"), "offset");
      assert.equal(layout.sizeBytes, numberField(record, "mapped_bytes"), "mapped size");
      assert.equal(layout.sectorSizeBytes, numberField(record, "sector_bytes"), "sector");
      assert.equal(layout.keySizeBits, numberField(record, "key_bits"), "key bits");
      assert.equal(layout.cipher, field(record, "cipher"), "cipher");
      assert.equal(layout.pbkdf, field(record, "pbkdf"), "pbkdf");
    });
  }
});
