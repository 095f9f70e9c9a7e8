/**
 * guestfish as an oracle: libguestfs boots its own appliance kernel (TCG here, no KVM), so it reads an
 * image with device-mapper, dm-crypt and file system drivers that are neither blocksmith's nor the host's.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { run } from "./devices.js";

/** True when guestfish can run; otherwise skips the test, or fails it under CI=true. */
export function guestfishAvailable(t: TestContext): boolean {
  if (spawnSync("guestfish", ["--version"]).status === 0) return true;
  if (process.env.CI === "true") assert.fail("guestfish (libguestfs-tools) is missing");
  t.skip("guestfish is not installed");
  return false;
}

/**
 * Runs `commands` (guestfish commands, each an argv) on a read-only raw `image`, the last one
 * `tar-out / ARCHIVE`, and unpacks that archive into `dir/guestfish-tree` with numeric owners.
 * `keys` answer the key prompts of cryptsetup-open, in order. Returns the tree and guestfish's stdout.
 */
export function guestfishTree(
  image: string,
  commands: string[][],
  dir: string,
  keys: string[] = [],
): { tree: string; stdout: string } {
  const archive = join(dir, "guestfish.tar");
  const all = [...commands, ["tar-out", "/", archive, "numericowner:true"]];
  const args = all.flatMap((command, index) => (index === 0 ? command : [":", ...command]));
  const result = spawnSync(
    "guestfish",
    ["--ro", "--format=raw", "-a", image, ...(keys.length > 0 ? ["--keys-from-stdin"] : []), "--", ...args],
    {
      encoding: "utf8",
      input: keys.map((key) => `${key}\n`).join(""),
      env: { ...process.env, LIBGUESTFS_BACKEND_SETTINGS: "force_tcg" },
      timeout: 300_000,
    },
  );
  assert.equal(result.status, 0, result.stderr);
  const tree = join(dir, "guestfish-tree");
  mkdirSync(tree);
  run(["tar", "-xf", archive, "-C", tree, "--numeric-owner", "--same-permissions"]);
  return { tree, stdout: result.stdout };
}
