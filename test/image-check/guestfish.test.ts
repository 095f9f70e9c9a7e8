/**
 * An independent read of the LUKS+LVM image the VM suite (test/vm/stacks.test.ts) left in
 * dist/vm-artifacts, outside the VM and without blocksmith or the host kernel: libguestfs boots its own
 * appliance (TCG here, no KVM), opens the LUKS volume with the key, activates the VG, mounts every LV
 * and reads back the file the VM suite wrote into it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../helpers/cli.js";

const ARTIFACTS = join(REPO_ROOT, "dist", "vm-artifacts");
const MANIFEST = join(ARTIFACTS, "luks-lvm.json");

function unavailable(): string | false {
  const reason = !existsSync(MANIFEST)
    ? `${MANIFEST} is missing (the VM suite makes it)`
    : spawnSync("guestfish", ["--version"]).status !== 0
      ? "guestfish is not installed (Debian package libguestfs-tools)"
      : undefined;
  if (reason === undefined) return false;
  if (process.env.CI === "true") throw new Error(`CI=true but the guestfish check cannot run: ${reason}`);
  console.log(`# guestfish check skipped: ${reason}`);
  return reason;
}

interface Manifest {
  image: string;
  luksPartition: number;
  luksName: string;
  volumeGroup: string;
  files: { device?: string; mountPoint: string; content: string }[];
}

test(
  "guestfish opens the LUKS volume, activates the VG and reads every file",
  { skip: unavailable() },
  () => {
    const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest;
    const onLvs = manifest.files.filter((file) => file.device !== undefined);
    assert.ok(onLvs.length > 0);
    const commands = [
      ["run"],
      ["cryptsetup-open", `/dev/sda${manifest.luksPartition}`, manifest.luksName],
      ["vg-activate", "true", manifest.volumeGroup],
      ...onLvs.flatMap((file) => [
        ["mount-ro", file.device!, "/"],
        ["cat", "/hello.txt"],
        ["umount", "/"],
      ]),
    ];
    // Commands as arguments (separated by ":"); stdin holds only the key, read when cryptsetup-open runs.
    const args = commands.flatMap((command, index) => (index === 0 ? command : [":", ...command]));
    const result = spawnSync(
      "guestfish",
      ["--ro", "--format=raw", "-a", join(ARTIFACTS, manifest.image), "--keys-from-stdin", "--", ...args],
      {
        input: readFileSync(join(ARTIFACTS, "key"), "utf8"),
        encoding: "utf8",
        env: { ...process.env, LIBGUESTFS_BACKEND: "direct", LIBGUESTFS_BACKEND_SETTINGS: "force_tcg" },
        timeout: 300_000,
      },
    );
    assert.equal(result.status, 0, `guestfish failed:\n${result.stderr}`);
    // guestfish's `cat` ends what it prints with a newline of its own.
    assert.equal(result.stdout, onLvs.map((file) => `${file.content}\n`).join(""));
  },
);
