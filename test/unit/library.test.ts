import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import * as blocksmith from "../../src/index.js";
import { REPO_ROOT } from "../helpers/cli.js";

describe("library entry", () => {
  it("loads, validates and plans a config with typed results", () => {
    const { model, graph } = blocksmith.loadConfig(`${REPO_ROOT}/examples/lvm.yaml`);
    assert.equal(graph.length, model.entries.length);
    const plan = blocksmith.plan(model, { imageSize: "8GiB" });
    assert.equal(plan.disks[0]!.label, "mbr");
    assert.deepEqual(
      plan.logicalVolumes.map((lv) => lv.name),
      ["lv_root", "lv_var", "lv_log", "lv_home"],
    );
  });

  it("throws typed errors with exit codes", () => {
    assert.throws(
      () => blocksmith.loadConfigText("- mkfs: {name: x, type: ext4, base: nothing}\n", "inline.yaml"),
      (error: unknown) =>
        error instanceof blocksmith.ConfigError && error.exitCode === blocksmith.ExitCode.config,
    );
  });

  it("the published JSON Schema (schema/) is the one the code generates", () => {
    const published = JSON.parse(
      readFileSync(`${REPO_ROOT}/schema/blocksmith-config.schema.json`, "utf8"),
    ) as unknown;
    assert.deepEqual(
      published,
      blocksmith.configJsonSchema(),
      "run: npx blocksmith schema -o schema/blocksmith-config.schema.json",
    );
  });
});
