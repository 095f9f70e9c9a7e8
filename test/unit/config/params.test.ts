import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readParams, stateDir } from "../../../src/config/params.js";
import { ParamsError } from "../../../src/core/errors.js";

const work = mkdtempSync(join(tmpdir(), "blocksmith-params-"));
after(() => rmSync(work, { recursive: true, force: true }));

function params(text: string): string {
  const file = join(work, `p${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe("DIB params file", () => {
  it("reads what disk-image-create writes", () => {
    const { params: p, warnings } = readParams(
      params(
        "config: /c.yaml\nimage-dir: /img\nroot-fs-type: ext4\nroot-label:\nmount-base: /mnt\nbuild-dir: /b\nimage-size: 2097152KiB\n",
      ),
    );
    assert.equal(p["image-size"], "2097152KiB");
    assert.equal(p["root-label"], null);
    assert.equal(stateDir(p), "/b/states/block-device");
    assert.deepEqual(warnings, []);
  });
  it("warns about unknown keys instead of failing (DIB ignores them)", () => {
    const { warnings } = readParams(params("build-dir: /b\nimage-sise: 1G\n"));
    assert.match(warnings[0]!, /ignoring unknown key "image-sise"/);
  });
  it("refuses a missing build-dir or a bad image-size", () => {
    assert.throws(() => readParams(params("config: /c.yaml\n")), ParamsError);
    assert.throws(
      () => readParams(params("build-dir: /b\nimage-size: lots\n")),
      /image-size: not a valid size/,
    );
    assert.throws(() => readParams(join(work, "missing.yaml")), /cannot read params file/);
  });
});
