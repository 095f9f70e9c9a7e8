import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unshareArgv } from "../../../src/offline/namespace.js";

describe("unshareArgv", () => {
  it("root needs only a mount namespace; others a user namespace mapped to root or to themselves", () => {
    assert.deepEqual(unshareArgv("root", 0, 0), ["unshare", "--mount", "--propagation", "private", "--"]);
    assert.deepEqual(unshareArgv("keep", 0, 0), ["unshare", "--mount", "--propagation", "private", "--"]);
    assert.deepEqual(unshareArgv("root", 1000, 100), [
      "unshare",
      "--user",
      "--map-root-user",
      "--mount",
      "--propagation",
      "private",
      "--",
    ]);
    assert.deepEqual(unshareArgv("keep", 1000, 100).slice(0, 5), [
      "unshare",
      "--user",
      "--map-user=1000",
      "--map-group=100",
      "--keep-caps",
    ]);
  });
});
