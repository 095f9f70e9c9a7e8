import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../../helpers/cli.js";

const work = mkdtempSync(join(tmpdir(), "blocksmith-cli-"));
after(() => rmSync(work, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

describe("blocksmith graph", () => {
  it("prints the canonical graph of the example", () => {
    const result = runCli(["graph", "examples/uefi-gpt.yaml"]);
    assert.equal(result.status, 0, result.stderr);
    const graph = JSON.parse(result.stdout) as Record<string, { name: string }>[];
    assert.ok(graph.every((entry) => Object.keys(entry).length === 1));
    assert.deepEqual(
      graph.map((entry) => Object.values(entry)[0]!.name),
      [
        "image0",
        "fstab_mount_mkfs_ESP",
        "mount_mkfs_ESP",
        "mkfs_ESP",
        "fstab_mount_mkfs_root",
        "mount_mkfs_root",
        "mkfs_root",
        "fstab_mount_mkfs_var",
        "mount_mkfs_var",
        "mkfs_var",
        "partitioning_image0",
      ],
    );
  });

  it("exits 3 with file:line and a hint on a bad config, as JSON", () => {
    const bad = file("bad.yaml", "- local_loop:\n    name: image0\n    sise: 1G\n");
    const human = runCli(["graph", bad]);
    assert.equal(human.status, 3);
    assert.match(human.stderr, /bad\.yaml:3:5: \[0\]\.local_loop\.sise: unknown key "sise"/);
    const result = runCli(["graph", "--json", bad]);
    assert.equal(result.status, 3);
    const error = JSON.parse(result.stderr) as {
      error: string;
      problems: { message: string; hint: string; at: { line: number } }[];
    };
    assert.equal(error.error, "config");
    assert.equal(error.problems[0]!.at.line, 3);
    assert.match(error.problems[0]!.hint, /did you mean "size"/);
  });

  it("--no-validate converts without validating", () => {
    const bad = file("unvalidated.yaml", "- local_loop:\n    name: image0\n    sise: 1G\n");
    const result = runCli(["graph", "--no-validate", bad]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [{ local_loop: { name: "image0", sise: "1G" } }]);
  });
});

describe("blocksmith plan", () => {
  it("renders tables and a picture", () => {
    const result = runCli(["plan", "examples/uefi-gpt.yaml", "--size", "4GiB"]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /image0 \(local_loop\) .*4 GiB/);
    assert.match(result.stdout, /ESP .*256 MiB/);
    assert.match(result.stdout, /\[root=*\]/);
    assert.match(result.stdout, /1\. \/ +ext4 "cloudimg-rootfs"|1\. \/ +ext4 "mkfs_root"/);
    assert.match(result.stdout, /LABEL=EFI \/boot\/efi vfat defaults 0 2/);
  });

  it("--json gives the documented shape", () => {
    const result = runCli(["plan", "examples/uefi-gpt.yaml", "--size", "4GiB", "--json"]);
    assert.equal(result.status, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as {
      disks: {
        name: string;
        sizeBytes: number;
        label: string;
        partitions: { name: string; number: number; startSector: number; type: string }[];
      }[];
      mounts: { mountPoint: string }[];
      steps: { node: string; argv: string[] }[];
    };
    assert.equal(plan.disks[0]!.sizeBytes, 4 * 1024 ** 3);
    assert.equal(plan.disks[0]!.label, "gpt");
    assert.deepEqual(plan.disks[0]!.partitions.map((p) => [p.name, p.number, p.startSector]).slice(0, 2), [
      ["ESP", 1, 2048],
      ["BSP", 2, 526336],
    ]);
    assert.equal(plan.disks[0]!.partitions[0]!.type, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    assert.deepEqual(
      plan.mounts.map((m) => m.mountPoint),
      ["/", "/boot/efi", "/var"],
    );
    assert.ok(plan.steps.some((s) => s.argv[0] === "mkfs" && s.argv.includes("vfat")));
  });

  it("exits 4 when partitions do not fit and says by how much", () => {
    const result = runCli(["plan", "examples/uefi-gpt.yaml", "--size", "200MiB"]);
    assert.equal(result.status, 4, result.stderr);
    assert.match(result.stderr, /layout error/);
  });

  it("exits 2 on a malformed --size and 4 without any size", () => {
    assert.equal(runCli(["plan", "examples/uefi-gpt.yaml", "--size", "huge"]).status, 2);
    const noSize = runCli(["plan", "examples/uefi-gpt.yaml"]);
    assert.equal(noSize.status, 4);
    assert.match(noSize.stderr, /has no size/);
  });
});

describe("blocksmith schema", () => {
  it("prints a JSON Schema covering every node type", () => {
    const result = runCli(["schema"]);
    assert.equal(result.status, 0, result.stderr);
    const schema = JSON.parse(result.stdout) as { type: string };
    assert.equal(schema.type, "array");
    for (const kind of [
      "local_loop",
      "device",
      "partitioning",
      "lvm",
      "luks",
      "raid",
      "mkfs",
      "mount",
      "fstab",
    ])
      assert.match(result.stdout, new RegExp(`"${kind}"`));
  });
});

describe("DIB phases: init and getval", () => {
  const buildDir = join(work, "build");
  mkdirSync(buildDir);
  const params = (extra: string) =>
    file(
      "params.yaml",
      `config: ${join(process.cwd(), "examples/uefi-gpt.yaml")}\nimage-dir: ${work}\nmount-base: ${work}/mnt\nbuild-dir: ${buildDir}\nroot-fs-type: ext4\n${extra}`,
    );

  it("init writes config.json with the root-fs params merged into mkfs_root", () => {
    const result = runCli(["--params", params("root-label:\n"), "init"]);
    assert.equal(result.status, 0, result.stderr);
    const config = JSON.parse(
      readFileSync(join(buildDir, "states/block-device/config.json"), "utf8"),
    ) as Record<string, Record<string, unknown>>[];
    const root = config.find((entry) => entry.mkfs?.name === "mkfs_root")!.mkfs!;
    assert.equal(root.label, "cloudimg-rootfs");
    assert.equal(root.type, "ext4");
  });

  it("getval answers root-label, root-fstype and mount-points", () => {
    const p = params("root-label: myroot\nimage-size: 4GiB\n");
    assert.equal(runCli(["--params", p, "init"]).status, 0);
    assert.equal(runCli(["--params", p, "getval", "root-label"]).stdout, "myroot\n");
    assert.equal(runCli(["--params", p, "getval", "root-fstype"]).stdout, "ext4\n");
    assert.equal(runCli(["--params", p, "getval", "mount-points"]).stdout, "/boot/efi|/|/var\n");
  });

  it("reads the params file from $DIB_BLOCK_DEVICE_PARAMS_YAML", () => {
    const p = params("");
    assert.equal(runCli(["init"], { env: { DIB_BLOCK_DEVICE_PARAMS_YAML: p } }).status, 0);
    assert.equal(
      runCli(["getval", "root-fstype"], { env: { DIB_BLOCK_DEVICE_PARAMS_YAML: p } }).stdout,
      "ext4\n",
    );
  });

  it("getval of an unknown symbol exits 2 (DIB exits 0)", () => {
    const result = runCli(["--params", params(""), "getval", "root-lable"]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown getval symbol/);
  });

  it("image-path before create is a state error (exit 6)", () => {
    const result = runCli(["--params", params(""), "getval", "image-path"]);
    assert.equal(result.status, 6);
  });

  it("reads image-block-devices from a DIB state.json", () => {
    const p = params("");
    writeFileSync(
      join(buildDir, "states/block-device/state.json"),
      JSON.stringify({
        blockdev: {
          image0: { device: "/dev/loop7", image: "/tmp/image0.raw" },
          root: { device: "/dev/loop7p1" },
        },
      }),
    );
    assert.equal(runCli(["--params", p, "getval", "image-path"]).stdout, "/tmp/image0.raw\n");
    assert.equal(runCli(["--params", p, "getval", "image-block-device"]).stdout, "/dev/loop7\n");
    assert.equal(
      runCli(["--params", p, "getval", "image-block-devices"]).stdout,
      " [image0]=/dev/loop7  [root]=/dev/loop7p1 \n",
    );
    assert.equal(runCli(["--params", p, "getval", "image-block-device", "root"]).stdout, "/dev/loop7p1\n");
    const notImage = runCli(["--params", p, "getval", "image-path", "root"]);
    assert.equal(notImage.status, 6);
    assert.match(notImage.stderr, /not an image file/);
  });

  it("a missing params file exits 5", () => {
    assert.equal(runCli(["--params", join(work, "nope.yaml"), "init"]).status, 5);
  });
});
