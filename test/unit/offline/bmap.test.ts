import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { blockRanges, bmapXml } from "../../../src/offline/bmap.js";

describe("bmap", () => {
  it("rounds byte ranges out to 4 KiB blocks and merges the ones that touch", () => {
    assert.deepEqual(
      blockRanges(
        [
          [0, 512],
          [4096, 8192],
          [20000, 20001],
          [1 << 20, (1 << 20) + 4096],
        ],
        1 << 21,
      ),
      [
        [0, 1],
        [4, 4],
        [256, 256],
      ],
    );
  });

  it("carries its own checksum, computed with the field zeroed (bmaptool's rule)", () => {
    const xml = bmapXml(8192 * 4, [
      { first: 0, last: 1, sha256: "a".repeat(64) },
      { first: 5, last: 5, sha256: "b".repeat(64) },
    ]);
    const checksum = /<BmapFileChecksum> ([0-9a-f]{64}) </.exec(xml)![1]!;
    const zeroed = xml.replace(checksum, "0".repeat(64));
    assert.equal(createHash("sha256").update(zeroed).digest("hex"), checksum);
    assert.match(xml, /<MappedBlocksCount> 3 </);
    assert.match(xml, /<BlocksCount> 8 </);
    assert.match(xml, /<Range chksum="b{64}"> 5 </);
    assert.match(xml, /<Range chksum="a{64}"> 0-1 </);
  });
});
