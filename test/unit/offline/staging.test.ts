import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitExisting } from "../../../src/offline/staging.js";

describe("splitExisting", () => {
  const existing = new Set(["/t/boot", "/t/etc", "/t/etc/default"]);
  const exists = (path: string) => existing.has(path);

  it("finds the deepest existing directory and what is missing below it", () => {
    assert.deepEqual(splitExisting("/t", "boot/efi", exists), { existing: "boot", missing: ["efi"] });
    assert.deepEqual(splitExisting("/t", "var/lib/x", exists), {
      existing: "",
      missing: ["var", "lib", "x"],
    });
    assert.deepEqual(splitExisting("/t", "etc/default", exists), { existing: "etc/default", missing: [] });
    assert.deepEqual(splitExisting("/t", "", exists), { existing: "", missing: [] });
  });
});
