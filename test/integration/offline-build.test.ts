/**
 * Offline mode end to end: `blocksmith build` run as an ordinary user (uid 65534 when the suite runs as
 * root), every image read back with tools blocksmith did not write: sfdisk, sgdisk, blkid, each file
 * system's own checker, the kernel (read-only loop mounts, as root) and mtools for the ESP.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  createReadStream,
  chownSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeBuildDir } from "../helpers/build-dir.js";
import { CLI, REPO_ROOT, runCli, type CliResult } from "../helpers/cli.js";
import { guestfishAvailable, guestfishTree } from "../helpers/guestfish.js";
import {
  extractBytes,
  releaseEverythingUnder,
  run,
  readSfdisk,
  withMountedReadOnly,
} from "../helpers/devices.js";
import { listTree, makeTree, ownedBy, TREE_MTIME, type Entry } from "../helpers/tree.js";
import type { Plan } from "../../src/plan/types.js";

const SEED = "0b5e1c2a-8d0e-4f7a-9a51-1f2e3d4c5b6a";
const EPOCH = "1700000000";
const EXAMPLE = join(REPO_ROOT, "examples", "uefi-gpt.yaml");
const NOBODY = 65534;
/** Small enough to hash quickly, big enough for the example (ESP 256 MiB, root 70%, /var). */
const SIZE = "1GiB";
const asRoot = process.getuid?.() === 0;

const ALL_TYPES = `
- local_loop: { name: image0 }
- partitioning:
    base: image0
    label: gpt
    partitions:
      - name: esp
        type: "EF00"
        size: 64MiB
        mkfs: { type: vfat, label: ESP }
      - name: swap
        type: "8200"
        size: 64MiB
        mkfs: { type: swap, label: swap0 }
      - name: root
        size: 500MiB
        mkfs: { type: ext4, label: root, mount: { mount_point: /, fstab: {} } }
      - name: boot
        size: 150MiB
        mkfs: { type: ext2, label: boot, mount: { mount_point: /boot, fstab: {} } }
      - name: srv
        size: 300MiB
        mkfs: { type: btrfs, label: srv, mount: { mount_point: /srv, fstab: {} } }
      - name: data
        size: 100%
        mkfs: { type: xfs, label: data, mount: { mount_point: /data, fstab: {} } }
`;

const XATTR_NAME = "user.blocksmith.note";
const XATTR_VALUE = "kept";
const XATTR_FILES = ["usr/bin/tool", "srv/www/index.html"];

/** An xattr read back by getfattr from a mounted file system: not our code reading our bytes. */
function xattrOf(path: string): string {
  return run(["getfattr", "--only-values", "-n", XATTR_NAME, path]);
}

let work = "";
let tree = "";
let cli = CLI;

/** The CLI as an ordinary user: ourselves, or uid 65534 when the suite runs as root. */
function build(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  return runCli(["build", ...args], {
    env: { SOURCE_DATE_EPOCH: EPOCH, ...env },
    cli,
    cwd: work,
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
}

function outputDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  if (asRoot) chownSync(dir, NOBODY, NOBODY);
  return dir;
}

function planOf(config: string, size: string): Plan {
  const result = runCli(["plan", config, "--size", size, "--json"]);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Plan;
}

/** Streamed (images are larger than a Node buffer may be); OpenSSL's SHA-256 is ~8x sha256sum's speed here. */
async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function blkidAt(image: string, offsetBytes: number, sizeBytes: number): Record<string, string> {
  const text = run([
    "blkid",
    "-p",
    "-o",
    "export",
    "-O",
    String(offsetBytes),
    "-S",
    String(sizeBytes),
    image,
  ]);
  return Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string]),
  );
}

function partitionOf(plan: Plan, name: string) {
  return plan.disks[0]!.partitions.find((p) => p.name === name)!;
}

/** Mounts a partition of the image read-only (the kernel's own loop device), runs `check`, unmounts. */
function withMounted<T>(image: string, offsetBytes: number, sizeBytes: number, check: (dir: string) => T): T {
  return withMountedReadOnly(image, work, check, { offsetBytes, sizeBytes });
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "blocksmith-offline-"));
  chmodSync(work, 0o755);
  tree = join(work, "tree");
  makeTree(tree);
  // user.* xattrs: mke2fs -d and mkfs.btrfs --rootdir copy them (the xfs protofile and FAT cannot hold them).
  for (const path of XATTR_FILES) run(["setfattr", "-n", XATTR_NAME, "-v", XATTR_VALUE, join(tree, path)]);
  if (asRoot) {
    // The builder's own files (uid 65534): with --owner root they are stored as root's.
    run(["chown", "-R", "-h", `${NOBODY}:${NOBODY}`, tree]);
    chmodSync(join(tree, "usr/bin/setuid-tool"), 0o4755); // chown clears set-user-id
    // The built CLI must be readable by the unprivileged user; a clone under /root is not.
    const probe = spawnSync(process.execPath, [CLI, "--version"], { uid: NOBODY, gid: NOBODY });
    if (probe.status !== 0) {
      const copy = join(work, "blocksmith");
      for (const part of ["package.json", "dist", "node_modules"])
        cpSync(join(REPO_ROOT, part), join(copy, part), { recursive: true, verbatimSymlinks: true });
      cli = join(copy, "dist", "src", "cli", "main.js");
    }
  }
});

after(() => {
  if (!work) return;
  if (asRoot) releaseEverythingUnder(work);
  rmSync(work, { recursive: true, force: true });
});

describe("blocksmith build (offline, as an ordinary user)", () => {
  it("writes the example's table exactly as planned, and every file system checks clean", async () => {
    const out = outputDir("example");
    const image = join(out, "disk.img");
    const result = build([EXAMPLE, "-o", image, "--size", SIZE, "--root", tree, "--seed", SEED]);
    assert.equal(result.status, 0, result.stderr);
    if (asRoot) assert.equal(statSync(image).uid, NOBODY, "made by the unprivileged user");
    assert.deepEqual(readdirSync(out), ["disk.img"], "no temporary file is left");

    const plan = planOf(EXAMPLE, SIZE);
    const table = readSfdisk(image);
    assert.equal(table.label, "gpt");
    assert.deepEqual(
      table.partitions.map((p) => [p.name, p.start, p.size, p.type]),
      plan.disks[0]!.partitions.map((p) => [p.gptName ?? p.name, p.startSector, p.sizeSectors, p.type]),
    );
    assert.match(run(["sgdisk", "-v", image]), /No problems found/);

    const esp = partitionOf(plan, "ESP");
    const root = partitionOf(plan, "root");
    const varPart = partitionOf(plan, "var");
    assert.deepEqual(
      [esp, root, varPart].map((p) => {
        const id = blkidAt(image, p.startBytes, p.sizeBytes);
        return [id.TYPE, id.LABEL];
      }),
      [
        ["vfat", "EFI"],
        ["ext4", "mkfs_root"],
        ["ext4", "var"],
      ],
    );
    for (const part of [root, varPart]) run(["e2fsck", "-fn", `${image}?offset=${part.startBytes}`]);
    const espFile = extractBytes(image, esp.startBytes, esp.sizeBytes, join(work, "esp.fat"));
    run(["fsck.vfat", "-n", espFile]);
    // The ESP holds boot/efi's files, byte for byte.
    const espOut = join(work, "esp-files");
    run(["mcopy", "-s", "-n", "-i", espFile, "::/EFI", espOut]);
    for (const path of ["BOOT/BOOTX64.EFI", "debian/grub.cfg"])
      assert.equal(await sha256(join(espOut, path)), await sha256(join(tree, "boot/efi/EFI", path)));
  });

  it("puts each mount point's subtree into its own file system, with modes, owners, links and times", (t) => {
    if (!asRoot) return t.skip("mounting the result needs root (the checks above ran)");
    const image = join(work, "example", "disk.img");
    const plan = planOf(EXAMPLE, SIZE);
    const root = partitionOf(plan, "root");
    let xattrs = "";
    const rootListing = withMounted(image, root.startBytes, root.sizeBytes, (dir) => {
      assert.equal(readFileSync(join(dir, "etc/fstab"), "utf8"), fstabOf(plan));
      assert.deepEqual(
        readdirSync(join(dir, "var")),
        [],
        "/var is only a mount point in the root file system",
      );
      assert.deepEqual(readdirSync(join(dir, "boot/efi")), [], "so is /boot/efi");
      xattrs = xattrOf(join(dir, "usr/bin/tool"));
      return listTree(dir, ["var", "boot/efi"]);
    });
    const source = ownedBy(listTree(tree, ["var", "boot/efi"]), 0);
    // /etc/fstab is the build's; its directory keeps the tree's attributes.
    const fstab = rootListing.get("etc/fstab")!;
    assert.deepEqual([fstab.mode, fstab.uid, fstab.mtime], [0o644, 0, Number(EPOCH)]);
    rootListing.delete("etc/fstab");
    source.delete("etc/fstab");
    for (const point of ["var", "boot/efi"]) {
      // Mount points keep their directory's mode and time but not its contents.
      assert.equal(rootListing.get(point)!.mode, source.get(point)!.mode);
      assert.equal(rootListing.get(point)!.mtime, TREE_MTIME);
    }
    assert.deepEqual(rootListing, source);
    assert.deepEqual(rootListing.get("usr/bin/hard-link-to-tool")!.links, ["usr/bin/tool"]);
    assert.equal(rootListing.get("usr/bin/setuid-tool")!.mode, 0o4755);
    assert.equal(xattrs, XATTR_VALUE, "user.* xattrs reach ext4, through the staging overlay");

    const varPart = partitionOf(plan, "var");
    const varListing = withMounted(image, varPart.startBytes, varPart.sizeBytes, (dir) => listTree(dir));
    assert.deepEqual(varListing, ownedBy(listTree(join(tree, "var")), 0));
  });

  it("guestfish (its own kernel) mounts every file system and finds the source tree in them", (t) => {
    if (!asRoot) return t.skip("extracting the tree with its owners needs root");
    if (!guestfishAvailable(t)) return;
    const image = join(work, "example", "disk.img");
    // Partition numbers: ESP 1, BSP 2, root 3, var 4 (the example's order).
    const { tree: extracted } = guestfishTree(
      image,
      [
        ["run"],
        ["mount", "/dev/sda3", "/"],
        ["mount", "/dev/sda4", "/var"],
        ["mount", "/dev/sda1", "/boot/efi"],
      ],
      work,
    );
    const image_ = listTree(extracted);
    const source = ownedBy(listTree(tree), 0);
    // A mount point seen from above is the root directory of the file system mounted there, which
    // mke2fs makes at SOURCE_DATE_EPOCH (the tree's directory is only in the parent, tested above).
    source.set("var", { ...source.get("var")!, mtime: Number(EPOCH) });
    for (const path of [...image_.keys()])
      if (path.endsWith("lost+found") || path === "etc/fstab") image_.delete(path);
    source.delete("etc/fstab");
    // vfat has no owners, modes, links or exact times: compare the ESP's files by content only.
    const esp = (listing: Map<string, Entry>) =>
      [...listing]
        .filter(([path]) => path.startsWith("boot/efi/"))
        .map(([path, entry]) => [path, entry.type, entry.content]);
    assert.deepEqual(esp(image_), esp(source));
    const rest = (listing: Map<string, Entry>) =>
      new Map([...listing].filter(([path]) => !path.startsWith("boot/efi/") && path !== "boot/efi"));
    assert.deepEqual(rest(image_), rest(source));
    assert.equal(readFileSync(join(extracted, "etc/fstab"), "utf8"), fstabOf(planOf(EXAMPLE, SIZE)));
  });

  it("is reproducible: two builds at different times in different directories are byte-identical", async () => {
    const first = join(outputDir("repro-a"), "disk.img");
    const second = join(outputDir("repro-b"), "disk.img");
    const unseeded = join(outputDir("repro-c"), "disk.img");
    assert.equal(build([EXAMPLE, "-o", first, "--size", SIZE, "--root", tree, "--seed", SEED]).status, 0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(build([EXAMPLE, "-o", second, "--size", SIZE, "--root", tree, "--seed", SEED]).status, 0);
    assert.equal(build([EXAMPLE, "-o", unseeded, "--size", SIZE, "--root", tree]).status, 0);
    const firstHash = await sha256(first);
    assert.equal(await sha256(second), firstHash);
    assert.equal(
      await sha256(join(work, "example", "disk.img")),
      firstHash,
      "the same as the first test's build",
    );
    assert.notEqual(await sha256(unseeded), firstHash, "without a seed the identifiers are random");
  });

  it("makes every file system type; each one's own checker agrees", () => {
    const out = outputDir("types");
    const config = join(out, "all-types.yaml");
    writeFileSync(config, ALL_TYPES);
    const image = join(out, "disk.img");
    const result = build([config, "-o", image, "--size", "2GiB", "--root", tree, "--seed", SEED]);
    assert.equal(result.status, 0, result.stderr);
    const plan = planOf(config, "2GiB");
    const ids = Object.fromEntries(
      ["esp", "swap", "root", "boot", "srv", "data"].map((name) => {
        const part = partitionOf(plan, name);
        const id = blkidAt(image, part.startBytes, part.sizeBytes);
        return [name, `${id.TYPE} ${id.LABEL}`];
      }),
    );
    assert.deepEqual(ids, {
      esp: "vfat ESP",
      swap: "swap swap0",
      root: "ext4 root",
      boot: "ext2 boot",
      srv: "btrfs srv",
      data: "xfs data",
    });
    const srv = partitionOf(plan, "srv");
    run([
      "btrfs",
      "check",
      "--readonly",
      extractBytes(image, srv.startBytes, srv.sizeBytes, join(out, "srv.btrfs")),
    ]);
    const data = partitionOf(plan, "data");
    run([
      "xfs_repair",
      "-n",
      "-f",
      extractBytes(image, data.startBytes, data.sizeBytes, join(out, "data.xfs")),
    ]);
    const boot = partitionOf(plan, "boot");
    run(["e2fsck", "-fn", `${image}?offset=${boot.startBytes}`]);
    if (asRoot) {
      // btrfs got /srv's files, and the /boot file system holds boot/ including boot/efi (no ESP mount here).
      withMounted(image, srv.startBytes, srv.sizeBytes, (dir) => {
        assert.deepEqual(listTree(dir), ownedBy(listTree(join(tree, "srv")), 0));
        assert.equal(xattrOf(join(dir, "www/index.html")), XATTR_VALUE, "user.* xattrs reach btrfs");
      });
      // xfs from a protofile: no times (the build's) and no hard links in that format.
      const withoutTimes = (listing: Map<string, Entry>) =>
        new Map([...listing].map(([path, entry]) => [path, { ...entry, mtime: 0 }]));
      withMounted(image, data.startBytes, data.sizeBytes, (dir) =>
        assert.deepEqual(withoutTimes(listTree(dir)), withoutTimes(ownedBy(listTree(join(tree, "data")), 0))),
      );
      withMounted(image, boot.startBytes, boot.sizeBytes, (dir) =>
        assert.deepEqual(listTree(dir), ownedBy(listTree(join(tree, "boot")), 0)),
      );
    }
    // Sparse: a 2 GiB image with a few MiB of files allocates a few tens of MiB (mostly file system metadata).
    assert.ok(
      statSync(image).blocks * 512 < 96 * 1024 * 1024,
      `${statSync(image).blocks * 512} bytes allocated`,
    );
  });

  it("writes qcow2 and a bmap that bmaptool verifies", async () => {
    const out = outputDir("formats");
    const raw = join(out, "disk.img");
    const qcow2 = join(out, "disk.qcow2");
    assert.equal(
      build([EXAMPLE, "-o", raw, "--size", SIZE, "--root", tree, "--seed", SEED, "--bmap"]).status,
      0,
    );
    assert.equal(
      build([EXAMPLE, "-o", qcow2, "--size", SIZE, "--root", tree, "--seed", SEED, "--format", "qcow2"])
        .status,
      0,
    );
    const info = JSON.parse(run(["qemu-img", "info", "--output", "json", qcow2])) as { format: string };
    assert.equal(info.format, "qcow2");
    run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, qcow2]);
    const copy = join(out, "copy.img");
    run(["bmaptool", "copy", "--bmap", `${raw}.bmap`, raw, copy]);
    assert.equal(await sha256(copy), await sha256(raw));
  });

  it("refuses what it cannot do before writing anything, and a failed build leaves nothing", () => {
    const out = outputDir("failures");
    const image = join(out, "disk.img");
    writeFileSync(image, "precious");
    if (asRoot) chownSync(image, NOBODY, NOBODY);
    const exists = build([EXAMPLE, "-o", image, "--size", SIZE]);
    assert.equal(exists.status, 2, exists.stderr);
    assert.match(exists.stderr, /exists; pass --force/);
    assert.equal(readFileSync(image, "utf8"), "precious");

    const both = build([EXAMPLE, "-o", join(out, "x.qcow2"), "--size", SIZE, "--bmap", "--format", "qcow2"]);
    assert.equal(both.status, 2, both.stderr);
    assert.match(both.stderr, /--bmap maps the blocks of a raw image/);

    const raidConfig = join(out, "raid.yaml");
    writeFileSync(
      raidConfig,
      `- local_loop: { name: image0 }
- partitioning:
    base: image0
    label: gpt
    partitions: [{ name: m0, size: 40MiB }, { name: m1, size: 40MiB }]
- raid: { name: md0, base: [m0, m1], level: 1 }
- mkfs: { name: fs_root, base: md0, type: ext4, mount: { mount_point: / } }
`,
    );
    const raid = build([raidConfig, "-o", join(out, "raid.img"), "--size", "128MiB"]);
    assert.equal(raid.status, 3, raid.stderr);
    assert.match(raid.stderr, /do not make md RAID layers .* yet; this config has md RAID "md0"/);

    // /var is 64 MiB, the tree's var/ holds 100 MiB: mke2fs fails, nothing is left behind.
    const small = join(out, "small.yaml");
    writeFileSync(
      small,
      readFileSync(EXAMPLE, "utf8")
        .replace("size: 70%", "size: 200MiB")
        .replace(/size: 100%/, "size: 64MiB"),
    );
    const big = join(work, "big-tree");
    cpSync(tree, big, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(big, "var", "huge"), Buffer.alloc(100 * 1024 * 1024, 1));
    if (asRoot) run(["chown", "-R", "-h", `${NOBODY}:${NOBODY}`, big]);
    const failed = build([small, "-o", join(out, "small.img"), "--size", SIZE, "--root", big, "--force"]);
    assert.equal(failed.status, 8, failed.stderr);
    assert.match(failed.stderr, /mke2fs .*-d .*failed/s);
    assert.deepEqual(
      readdirSync(out).sort(),
      ["disk.img", "raid.yaml", "small.yaml"],
      "no half image, no temporary files",
    );
    rmSync(big, { recursive: true, force: true });
  });

  it("device mode and offline mode make the same table and the same file systems from one seed", (t) => {
    if (!asRoot) return t.skip("device mode needs root");
    const dir = outputDir("cross-mode");
    const params = writeBuildDir(dir, ALL_TYPES, "2GiB");
    const config = join(dir, "config.yaml");
    const device = join(dir, "images", "image0.raw");
    try {
      for (const phase of [["init"], ["create", "--seed", SEED], ["umount"], ["cleanup"]]) {
        const result = runCli(["--params", params, ...phase]);
        assert.equal(result.status, 0, `${phase[0]}: ${result.stderr}`);
      }
    } finally {
      runCli(["--params", params, "umount"]);
    }
    const offline = join(dir, "offline.img");
    const built = build([config, "-o", offline, "--size", "2GiB", "--seed", SEED]);
    assert.equal(built.status, 0, built.stderr);
    const table = (image: string) => {
      const { device: _device, ...rest } = readSfdisk(image);
      return JSON.stringify(rest).replaceAll(image, "IMAGE");
    };
    assert.equal(table(offline), table(device), "the same GPT, GUIDs included");
    const plan = planOf(config, "2GiB");
    for (const part of plan.disks[0]!.partitions) {
      const ids = (image: string) => {
        const { TYPE, LABEL, UUID, VERSION } = blkidAt(image, part.startBytes, part.sizeBytes);
        return { TYPE, LABEL, UUID, VERSION };
      };
      assert.deepEqual(ids(offline), ids(device), part.name);
    }
  });

  it("--owner keep stores the tree's own ids when run as root, and is refused without root", (t) => {
    if (!asRoot) return t.skip("needs root to run both ways");
    const out = outputDir("owner");
    const image = join(out, "disk.img");
    const refused = build([EXAMPLE, "-o", image, "--size", SIZE, "--root", tree, "--owner", "keep"]);
    assert.equal(refused.status, 3, refused.stderr);
    assert.match(refused.stderr, /--owner keep needs root/);
    const asItself = runCli(
      ["build", EXAMPLE, "-o", image, "--size", SIZE, "--root", tree, "--owner", "keep"],
      {
        env: { SOURCE_DATE_EPOCH: EPOCH },
        cli,
        cwd: work,
      },
    );
    assert.equal(asItself.status, 0, asItself.stderr);
    const root = partitionOf(planOf(EXAMPLE, SIZE), "root");
    withMounted(image, root.startBytes, root.sizeBytes, (dir) => {
      assert.equal(statSync(join(dir, "etc/hostname")).uid, NOBODY);
      assert.equal(statSync(join(dir, "usr/bin/tool")).gid, NOBODY);
    });
  });
});

function fstabOf(plan: Plan): string {
  return plan.fstab
    .map((f) => `${f.spec} ${f.mountPoint} ${f.fsType} ${f.options} ${f.dumpFreq} ${f.fsckPassNo}\n`)
    .join("");
}
