import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  BLOCKSMITH_NAMESPACE,
  deriveMbrSignature,
  deriveUuid,
  identifierSource,
  parseUuid,
  purposes,
  randomMbrSignature,
} from "../../../src/formats/identifiers.js";
import { run, skipUnless, SYSTEM_PYTHON } from "./table-tools.js";

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("identifiers", () => {
  it("names the purposes as documented", () => {
    assert.equal(purposes.gptDisk("image0"), "gpt-disk:image0");
    assert.equal(purposes.gptPartition("image0", "root"), "gpt-partition:image0:root");
    assert.equal(purposes.mbrSignature("image0"), "mbr-signature:image0");
  });

  it("derives stable version-5 UUIDs that differ by seed and purpose", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (seed, a, b) => {
        const uuid = deriveUuid(seed, a);
        assert.match(uuid, UUID_V5);
        assert.equal(deriveUuid(seed, a), uuid);
        if (a !== b) assert.notEqual(deriveUuid(seed, b), uuid);
        assert.notEqual(deriveUuid(`${seed}x`, a), uuid);
      }),
    );
    // The NUL separator keeps ("ab", "c") and ("a", "bc") apart.
    assert.notEqual(deriveUuid("ab", "c"), deriveUuid("a", "bc"));
  });

  it(
    "is RFC 4122 version 5: python's uuid.uuid5 gives the same UUIDs",
    { skip: skipUnless("python") },
    () => {
      const cases = [
        ["seed", purposes.gptDisk("image0")],
        ["", purposes.gptPartition("image0", "root")],
        ["zürich-2024", purposes.mbrSignature("image0")],
      ] as const;
      const script =
        "import json, sys, uuid\n" +
        "ns, cases = uuid.UUID(sys.argv[1]), json.loads(sys.argv[2])\n" +
        "print(json.dumps([str(uuid.uuid5(ns, s + '\\0' + p)) for s, p in cases]))";
      const expected = JSON.parse(
        run([SYSTEM_PYTHON, "-c", script, BLOCKSMITH_NAMESPACE, JSON.stringify(cases)]),
      );
      assert.deepEqual(
        cases.map(([seed, purpose]) => deriveUuid(seed, purpose)),
        expected,
      );
    },
  );

  it("derives 32-bit non-zero MBR signatures from the same digest", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (seed, purpose) => {
        const signature = deriveMbrSignature(seed, purpose);
        assert.ok(Number.isInteger(signature) && signature > 0 && signature <= 0xffffffff);
        assert.equal(deriveMbrSignature(seed, purpose), signature);
      }),
    );
    // Same SHA-1 as the UUID: the signature is its first four bytes, little-endian.
    const uuidBytes = parseUuid(deriveUuid("s", "p"));
    assert.equal(deriveMbrSignature("s", "p"), uuidBytes.readUInt32LE(0));
  });

  it("is random without a seed, deterministic with one", () => {
    const random = identifierSource(undefined);
    assert.notEqual(random.uuid("gpt-disk:image0"), random.uuid("gpt-disk:image0"));
    assert.match(random.uuid("x"), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(randomMbrSignature() > 0);
    const seeded = identifierSource("build-42");
    assert.equal(seeded.uuid("gpt-disk:image0"), deriveUuid("build-42", "gpt-disk:image0"));
    assert.equal(
      seeded.mbrSignature("mbr-signature:image0"),
      deriveMbrSignature("build-42", "mbr-signature:image0"),
    );
  });
});
