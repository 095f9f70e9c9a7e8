import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { crc32 } from "../../../src/formats/crc32.js";
import { run, skipUnless, SYSTEM_PYTHON } from "./table-tools.js";

/** zlib.crc32 arrived in Node 20.15/22.2; older runtimes lack it. */
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

describe("crc32", () => {
  it("matches the published check values", () => {
    assert.equal(crc32(Buffer.from("123456789")), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
    assert.equal(crc32(Buffer.from("The quick brown fox jumps over the lazy dog")), 0x414fa339);
    assert.equal(crc32(Buffer.alloc(32, 0)), 0x190a55ad);
    assert.equal(crc32(Buffer.alloc(32, 0xff)), 0xff6cab0b);
  });

  it("continues over split buffers", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (data, cut) => {
        const at = Math.min(cut, data.length);
        assert.equal(crc32(data.subarray(at), crc32(data.subarray(0, at))), crc32(data));
      }),
    );
  });

  it("agrees with zlib.crc32", { skip: zlibCrc32 ? false : "this Node has no zlib.crc32" }, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        assert.equal(crc32(data), zlibCrc32!(data));
      }),
    );
  });

  it("agrees with python's binascii.crc32", { skip: skipUnless("python") }, () => {
    const samples = Array.from({ length: 20 }, (_, i) => randomBytes(i * 97));
    const script =
      "import binascii, sys\nfor line in sys.stdin.read().split():\n print(binascii.crc32(bytes.fromhex(line)))";
    const input = samples
      .map((s) => (s.length === 0 ? "" : s.toString("hex")))
      .filter((h) => h !== "")
      .join("\n");
    const expected = run([SYSTEM_PYTHON, "-c", script], input).trim().split("\n").map(Number);
    assert.deepEqual(
      samples.filter((s) => s.length > 0).map((s) => crc32(s)),
      expected,
    );
  });
});
