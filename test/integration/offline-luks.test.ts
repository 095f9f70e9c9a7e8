/**
 * Offline LUKS end to end: `blocksmith build` has cryptsetup write each header into a file and encrypts
 * the file system itself. cryptsetup reads the headers back and unlocks them with the configured key
 * (no device-mapper needed for that); guestfish, whose own kernel has dm-crypt, opens the volumes (LUKS2
 * on a partition, LUKS1 on an LV, LVM inside LUKS2), mounts them and reads the whole tree.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { guestfishAvailable, guestfishTree } from "../helpers/guestfish.js";
import { deviceSuite, extractBytes, readSfdisk, run } from "../helpers/devices.js";
import { extractLv, lvmView, withPvLoops } from "../helpers/lvm.js";
import { listTree, makeTree, ownedBy } from "../helpers/tree.js";
import { deriveUuid, purposes } from "../../src/formats/identifiers.js";

const SEED = "5d2e1f0a-6b7c-4d8e-9f0a-1b2c3d4e5f6a";
const EPOCH = "1700000000";
const SIZE = "400MiB";
const KEY = "offline-luks-test-key";
const VG = "bs_luks_vg";

const config = (keyFile: string) => `
- local_loop: { name: image0 }
- partitioning:
    base: image0
    label: gpt
    partitions:
      - name: ESP
        type: "EF00"
        size: 64MiB
        mkfs: { type: vfat, label: ESP, mount: { mount_point: /boot/efi, fstab: {} } }
      - { name: crypt_part, size: 200MiB }
      - { name: pv_part, type: "8E00", size: 100% }
- luks: { name: cryptroot, base: crypt_part, pbkdf: pbkdf2, iter-time: 10, key-file: ${keyFile} }
- mkfs: { name: fs_root, base: cryptroot, type: ext4, label: root, mount: { mount_point: /, fstab: {} } }
- lvm:
    name: lvm
    pvs: [{ name: pv1, base: pv_part }]
    vgs: [{ name: ${VG}, base: [pv1] }]
    lvs: [{ name: lv_srv, base: ${VG}, extents: 100%FREE }]
- luks: { name: cryptsrv, base: lv_srv, type: luks1, pbkdf: pbkdf2, iter-time: 10, key-file: ${keyFile} }
- mkfs: { name: fs_srv, base: cryptsrv, type: ext4, label: srv, mount: { mount_point: /srv, fstab: {} } }
`;

// The layout of "encrypt the whole disk with LVM": /boot apart, one LUKS2 volume holding a VG.
const FDE_VG = "bs_fde_vg";
const fdeConfig = (keyFile: string) => `
- local_loop: { name: image0 }
- partitioning:
    base: image0
    label: gpt
    partitions:
      - { name: boot, size: 100MiB, mkfs: { type: ext4, label: boot, mount: { mount_point: /boot, fstab: {} } } }
      - { name: crypt_part, size: 100% }
- luks: { name: cryptlvm, base: crypt_part, pbkdf: pbkdf2, iter-time: 10, key-file: ${keyFile} }
- lvm:
    name: lvm
    pvs: [{ name: pv1, base: cryptlvm }]
    vgs: [{ name: ${FDE_VG}, base: [pv1] }]
    lvs:
      - { name: lv_swap, base: ${FDE_VG}, size: 16M }
      - { name: lv_root, base: ${FDE_VG}, extents: 100%FREE }
- mkfs: { name: fs_root, base: lv_root, type: ext4, label: root, mount: { mount_point: /, fstab: {} } }
- mkfs: { name: fs_swap, base: lv_swap, type: swap, label: swap0 }
`;

const { skip, work } = deviceSuite("blocksmith-offline-luks-");
let tree = "";
let keyFile = "";
let configFile = "";
let image = "";

function dump(device: string): string {
  return run(["cryptsetup", "luksDump", device]);
}

before(() => {
  if (skip) return;
  tree = join(work, "tree");
  makeTree(tree);
  keyFile = join(work, "key");
  writeFileSync(keyFile, KEY, { mode: 0o600 });
  configFile = join(work, "luks.yaml");
  writeFileSync(configFile, config(keyFile));
});

describe("blocksmith build with LUKS (offline)", { skip }, () => {
  it("writes headers cryptsetup reads and the configured key unlocks: LUKS2 on a partition, LUKS1 on an LV", () => {
    const out = join(work, "out");
    mkdirSync(out);
    image = join(out, "disk.img");
    const result = runCli(
      ["build", configFile, "-o", image, "--size", SIZE, "--root", tree, "--seed", SEED],
      {
        env: { SOURCE_DATE_EPOCH: EPOCH },
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /LUKS "cryptroot", LUKS "cryptsrv" will not be byte-reproducible/);
    assert.deepEqual(readdirSync(out), ["disk.img"], "no key, header or plain file is left");

    const partition = readSfdisk(image).partitions.find((p) => p.name === "crypt_part")!;
    const rootDevice = join(work, "crypt_part");
    extractBytes(image, partition.start * 512, partition.size * 512, rootDevice);
    const srvDevice = withPvLoops(image, ["pv_part"], false, (devices) =>
      extractLv(image, ["pv_part"], lvmView(devices, VG), "lv_srv", join(work, "lv_srv")),
    );
    const rootDump = dump(rootDevice);
    assert.match(rootDump, /^Version:\s+2$/m);
    assert.match(rootDump, new RegExp(`^UUID:\\s+${deriveUuid(SEED, purposes.luks("cryptroot"))}$`, "m"));
    assert.match(rootDump, /cipher: aes-xts-plain64/);
    const srvDump = dump(srvDevice);
    assert.match(srvDump, /^Version:\s+1$/m);
    assert.match(srvDump, new RegExp(`^UUID:\\s+${deriveUuid(SEED, purposes.luks("cryptsrv"))}$`, "m"));
    for (const device of [rootDevice, srvDevice])
      run(["cryptsetup", "open", "--test-passphrase", "--key-file", keyFile, device]);
    const wrong = join(work, "wrong-key");
    writeFileSync(wrong, "not the key");
    const refused = spawnSync("cryptsetup", ["open", "--test-passphrase", "--key-file", wrong, rootDevice]);
    assert.notEqual(refused.status, 0, "a wrong key does not open it");
    rmSync(rootDevice);
    rmSync(srvDevice);
  });

  it("guestfish (its own kernel, with dm-crypt) opens both volumes and reads every file and crypttab", (t) => {
    if (!guestfishAvailable(t)) return;
    const { tree: extracted, stdout } = guestfishTree(
      image,
      [
        ["run"],
        ["cryptsetup-open", "/dev/sda2", "cryptroot"],
        ["vg-activate", "true", VG],
        ["cryptsetup-open", `/dev/${VG}/lv_srv`, "cryptsrv"],
        ["mount", "/dev/mapper/cryptroot", "/"],
        ["mount", "/dev/mapper/cryptsrv", "/srv"],
        ["cat", "/etc/crypttab"],
      ],
      work,
      [KEY, KEY],
    );
    assert.equal(
      stdout.trim(),
      [
        `cryptroot UUID=${deriveUuid(SEED, purposes.luks("cryptroot"))} ${keyFile} luks`,
        `cryptsrv UUID=${deriveUuid(SEED, purposes.luks("cryptsrv"))} ${keyFile} luks`,
      ].join("\n"),
    );
    const listing = listTree(extracted, ["boot/efi"]);
    for (const path of [...listing.keys()])
      if (path.endsWith("lost+found") || path === "etc/fstab" || path === "etc/crypttab")
        listing.delete(path);
    const source = ownedBy(listTree(tree, ["boot/efi"]), 0);
    source.delete("etc/fstab");
    // /srv seen from above is the srv file system's root directory, made at SOURCE_DATE_EPOCH.
    source.set("srv", { ...source.get("srv")!, mtime: Number(EPOCH) });
    assert.deepEqual(listing, source);
  });

  it("puts LVM inside LUKS: guestfish opens the volume, activates the VG and reads the tree", (t) => {
    const out = join(work, "fde");
    mkdirSync(out);
    const config = join(out, "fde.yaml");
    writeFileSync(config, fdeConfig(keyFile));
    const fde = join(out, "disk.img");
    const result = runCli(["build", config, "-o", fde, "--size", SIZE, "--root", tree, "--seed", SEED], {
      env: { SOURCE_DATE_EPOCH: EPOCH },
    });
    assert.equal(result.status, 0, result.stderr);
    const partition = readSfdisk(fde).partitions.find((p) => p.name === "crypt_part")!;
    const device = extractBytes(fde, partition.start * 512, partition.size * 512, join(out, "crypt_part"));
    assert.match(dump(device), /^Version:\s+2$/m);
    run(["cryptsetup", "open", "--test-passphrase", "--key-file", keyFile, device]);
    rmSync(device);
    if (!guestfishAvailable(t)) return;
    const { tree: extracted } = guestfishTree(
      fde,
      [
        ["run"],
        ["cryptsetup-open", "/dev/sda2", "cryptlvm"],
        ["vg-activate", "true", FDE_VG],
        // A 4096-byte-sector LUKS2 volume gives its LVs 4096-byte sectors: ext4 must have 4 KiB blocks.
        ["mount", `/dev/${FDE_VG}/lv_root`, "/"],
        ["mount", "/dev/sda1", "/boot"],
      ],
      out,
      [KEY],
    );
    const listing = listTree(extracted);
    for (const path of [...listing.keys()])
      if (path.endsWith("lost+found") || path === "etc/fstab" || path === "etc/crypttab")
        listing.delete(path);
    const source = ownedBy(listTree(tree), 0);
    source.delete("etc/fstab");
    source.set("boot", { ...source.get("boot")!, mtime: Number(EPOCH) });
    assert.deepEqual(listing, source);
    rmSync(out, { recursive: true, force: true });
  });

  it("refuses LUKS it cannot make offline, before writing anything", () => {
    const out = join(work, "refusals");
    mkdirSync(out);
    const base = config(keyFile);
    const cases: [string, RegExp][] = [
      [
        base.replace(
          `pbkdf: pbkdf2, iter-time: 10, key-file: ${keyFile} }\n- mkfs: { name: fs_root`,
          "pbkdf: pbkdf2 }\n- mkfs: { name: fs_root",
        ),
        /luks "cryptroot" has neither key-file nor passphrase-file/,
      ],
      [
        base.replace("type: luks1,", "type: luks1, cipher: aes-cbc-essiv:sha256, key-size: 256,"),
        /luks "cryptsrv" uses aes-cbc-essiv:sha256 with a 256-bit key/,
      ],
    ];
    for (const [text, message] of cases) {
      const file = join(out, "config.yaml");
      writeFileSync(file, text);
      const result = runCli(["build", file, "-o", join(out, "disk.img"), "--size", SIZE]);
      assert.equal(result.status, 3, result.stderr);
      assert.match(result.stderr, message);
    }
    assert.deepEqual(readdirSync(out), ["config.yaml"], "nothing but the config is left");
    rmSync(out, { recursive: true, force: true });
  });
});
