import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  alignUp,
  checkSizeSyntax,
  formatBytes,
  parseAbsoluteSize,
  parseRelativeSize,
  SIZE_UNITS,
} from "../../../src/core/size.js";

describe("parseAbsoluteSize (DIB's parse_abs_size_spec)", () => {
  it("uses powers of 1000 for K/M/G/T(B) and 1024 for KiB…TiB", () => {
    assert.equal(parseAbsoluteSize("1K"), 1000);
    assert.equal(parseAbsoluteSize("1KB"), 1000);
    assert.equal(parseAbsoluteSize("1KiB"), 1024);
    assert.equal(parseAbsoluteSize("3G"), 3_000_000_000);
    assert.equal(parseAbsoluteSize("550MiB"), 550 * 1024 * 1024);
    assert.equal(parseAbsoluteSize("2TiB"), 2 * 1024 ** 4);
    assert.equal(parseAbsoluteSize("512"), 512);
    assert.equal(parseAbsoluteSize("512B"), 512);
    assert.equal(parseAbsoluteSize(4096), 4096);
  });
  it("accepts one space before the unit and fractions, truncating like int(float)", () => {
    assert.equal(parseAbsoluteSize("1 GiB"), 1024 ** 3);
    assert.equal(parseAbsoluteSize("1.5MiB"), 1572864);
    assert.equal(parseAbsoluteSize("0.3KB"), 300);
    assert.equal(parseAbsoluteSize("1.0000001K"), 1000);
    assert.equal(parseAbsoluteSize(".5KiB"), 512);
  });
  it("treats a missing number as 1, as DIB does", () => {
    assert.equal(parseAbsoluteSize("MiB"), 1024 * 1024);
  });
  it("refuses sizes beyond 2^53 bytes, where doubles stop being exact", () => {
    assert.throws(() => parseAbsoluteSize("8192TiB"), /too large/);
  });
  it("rejects unknown units and malformed numbers", () => {
    assert.throws(() => parseAbsoluteSize("1Gb"), /unknown unit "Gb"/);
    assert.throws(() => parseAbsoluteSize("1.2.3M"), /malformed number/);
    assert.throws(() => parseAbsoluteSize("-1M"), /invalid size/);
    assert.throws(() => parseAbsoluteSize("1  M"), /invalid size/);
  });
});

describe("parseRelativeSize (DIB's parse_rel_size_spec)", () => {
  it("takes percentages of the available space, truncated", () => {
    assert.deepEqual(parseRelativeSize("50%", 1001), { relative: true, bytes: 500 });
    assert.deepEqual(parseRelativeSize("100%", 4 * 1024 ** 3), { relative: true, bytes: 4 * 1024 ** 3 });
    assert.deepEqual(parseRelativeSize("33.3%", 1000), { relative: true, bytes: 333 });
    assert.deepEqual(parseRelativeSize("1G", 5), { relative: false, bytes: 1e9 });
  });
  it("rejects a malformed percentage", () => {
    assert.throws(() => parseRelativeSize("x%", 100), /malformed percentage/);
  });
  it("checkSizeSyntax refuses percentages where they make no sense", () => {
    assert.match(checkSizeSyntax("10%", false) ?? "", /percentage is not allowed/);
    assert.equal(checkSizeSyntax("10%", true), undefined);
  });
});

describe("size properties", () => {
  it("an integer count with any unit parses to count × factor", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4000 }),
        fc.constantFrom(...SIZE_UNITS),
        (count, [unit, factor]) => {
          assert.equal(parseAbsoluteSize(`${count}${unit}`), count * factor);
        },
      ),
    );
  });
  it("formatBytes round-trips through the binary units for exact multiples", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1023 }),
        fc.constantFrom("KiB", "MiB", "GiB", "TiB"),
        (count, unit) => {
          const bytes = parseAbsoluteSize(`${count}${unit}`);
          assert.equal(parseAbsoluteSize(formatBytes(bytes).replace(" ", "")), bytes);
        },
      ),
    );
  });
  it("alignUp gives the least multiple at or above the value", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 2 ** 21 }),
        (value, alignment) => {
          const aligned = alignUp(value, alignment);
          assert.equal(aligned % alignment, 0);
          assert.ok(aligned >= value && aligned - value < alignment);
        },
      ),
    );
  });
});
