import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closestMatch, didYouMean, editDistance } from "../../../src/core/did-you-mean.js";

describe("did you mean", () => {
  it("counts a swap of neighbours as one edit", () => {
    assert.equal(editDistance("lable", "label"), 1);
    assert.equal(editDistance("gtp", "gpt"), 1);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("mount_point", "mountpoint"), 1);
  });
  it("suggests only close matches, scaled by length", () => {
    assert.equal(closestMatch("sise", ["size", "name", "base"]), "size");
    assert.equal(closestMatch("partitoins", ["partitions", "label"]), "partitions");
    assert.equal(closestMatch("xyz", ["size", "name"]), undefined);
    assert.equal(didYouMean("mkfss", ["mkfs", "mount"]), 'did you mean "mkfs"?');
  });
});
