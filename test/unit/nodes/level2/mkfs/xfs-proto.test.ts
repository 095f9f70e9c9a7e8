import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PopulateError } from "../../../../../src/core/errors.js";
import { xfsProto } from "../../../../../src/nodes/level2/mkfs/xfs-proto.js";

describe("xfsProto", () => {
  it("describes a tree in mkfs.xfs's protofile format", () => {
    const root = mkdtempSync(join(tmpdir(), "blocksmith-proto-"));
    try {
      chmodSync(root, 0o755);
      mkdirSync(join(root, "bin"));
      chmodSync(join(root, "bin"), 0o755);
      writeFileSync(join(root, "bin", "tool"), "x");
      chmodSync(join(root, "bin", "tool"), 0o4755);
      symlinkSync("bin/tool", join(root, "link"));
      const uid = process.getuid?.() ?? 0;
      const gid = process.getgid?.() ?? 0;
      assert.equal(
        xfsProto(root),
        [
          "/dev/null",
          "0 0",
          `d--755 ${uid} ${gid}`,
          `  bin d--755 ${uid} ${gid}`,
          `    tool -u-755 ${uid} ${gid} ${join(root, "bin", "tool")}`,
          "    $",
          `  link l--777 ${uid} ${gid} bin/tool`,
          "$",
          "",
        ].join("\n"),
      );
      writeFileSync(join(root, "with space"), "");
      assert.throws(() => xfsProto(root), PopulateError);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
