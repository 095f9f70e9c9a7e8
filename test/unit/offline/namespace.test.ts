import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nsenterArgv, unshareArgv } from "../../../src/offline/namespace.js";

describe("namespace argv", () => {
  it("root needs only a mount namespace; others a user namespace that maps them to root", () => {
    assert.deepEqual(unshareArgv(0), ["unshare", "--mount", "--propagation", "private", "--"]);
    assert.deepEqual(unshareArgv(1000), [
      "unshare",
      "--user",
      "--map-root-user",
      "--mount",
      "--propagation",
      "private",
      "--",
    ]);
  });

  it("enters with the caller's own ids (root inside the namespace; setgroups is denied there)", () => {
    assert.deepEqual(nsenterArgv(42, 0), ["nsenter", "--target=42", "--mount", "--"]);
    assert.deepEqual(nsenterArgv(42, 1000), [
      "nsenter",
      "--target=42",
      "--user",
      "--mount",
      "--preserve-credentials",
      "--",
    ]);
  });
});
