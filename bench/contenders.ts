/**
 * The four ways the benchmark builds the same image: blocksmith, the floor (the mkfs tools alone, no
 * partition table: nobody can be faster than the tools that write the file systems), systemd-repart
 * and genimage. Each writes its configuration once (untimed) and then builds into an empty directory.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "../src/core/runner.js";
import { startWriteback } from "../src/offline/writeback.js";
import { runMeasured } from "./tools.js";
import { ROOT_TYPE, validateDisk, validateFloor, type ExpectedContent } from "./validate-image.js";

const MiB = 1024 * 1024;

export interface Workload {
  /** The future root, ESP files under boot/efi: what blocksmith's --root takes. */
  treeDir: string;
  /** The same without boot/efi's contents, for tools that fill one file system from one directory. */
  rootSubtreeDir: string;
  espDir: string;
  diskSizeBytes: number;
  espOffsetBytes: number;
  espSizeBytes: number;
  /** The root partition in blocksmith's plan: the rest of the disk, 1 MiB kept for the backup GPT. */
  rootSizeBytes: number;
  seedUuid: string;
  sourceDateEpoch: string;
  expected: ExpectedContent;
  /** Scratch space for validation, outside every contender's output directory. */
  scratchDir: string;
}

export interface BuildResult {
  /** Files to fsync (inside the timing) and then validate. */
  outputs: string[];
  peakRssKiB: number;
  /** blocksmith's own node processes (the largest), apart from the mkfs tools it runs. */
  nodeRssKiB?: number;
}

export interface Contender {
  name: string;
  tools: readonly string[];
  /** Why this contender cannot run here, checked once before the rounds; undefined when it can. */
  unavailable(): string | undefined;
  prepare(workload: Workload, configDir: string): void;
  build(workload: Workload, outDir: string): Promise<BuildResult>;
  validate(outputs: readonly string[], workload: Workload): Promise<string | undefined>;
}

/** mcopy wants the sources as arguments; a directory's entries, so they land at the ESP's root. */
function espSources(workload: Workload): string[] {
  return readdirSync(workload.espDir)
    .sort()
    .map((entry) => join(workload.espDir, entry));
}

const validateOneDisk = (outputs: readonly string[], workload: Workload) =>
  validateDisk(outputs[0]!, workload.expected, workload.scratchDir);

/**
 * The floor's steps. With `writeback`, the root file system is synced over and over while mke2fs writes
 * it, as blocksmith does: the floor that the tools reach when the disk and the CPU work at once.
 */
async function floorBuild(workload: Workload, outDir: string, writeback: boolean): Promise<BuildResult> {
  const esp = join(outDir, "esp.vfat");
  const root = join(outDir, "root.ext4");
  const rootSize = `${workload.rootSizeBytes / 1024}k`;
  const env = { MTOOLS_SKIP_CHECK: "1" };
  let peakRssKiB = 0;
  for (const argv of [
    ["mkfs.vfat", "-C", "-n", "EFI", esp, String(workload.espSizeBytes / 1024)],
    ["mcopy", "-s", "-m", "-i", esp, ...espSources(workload), "::/"],
  ]) {
    const { peakRssKiB: rss } = await runMeasured(argv, `floor: ${argv[0]}`, outDir, env);
    peakRssKiB = Math.max(peakRssKiB, rss);
  }
  // mke2fs takes an existing empty file as its target, so the pump can hold it from the start.
  if (writeback) writeFileSync(root, "");
  const pump = writeback ? await startWriteback(root) : undefined;
  try {
    const mke2fs = [
      "mke2fs",
      "-q",
      "-t",
      "ext4",
      "-L",
      "root",
      "-d",
      workload.rootSubtreeDir,
      root,
      rootSize,
    ];
    const { peakRssKiB: rss } = await runMeasured(mke2fs, "floor: mke2fs", outDir, env);
    peakRssKiB = Math.max(peakRssKiB, rss);
  } finally {
    await pump?.stop();
  }
  return { outputs: [esp, root], peakRssKiB };
}

const validateFloorOutputs = (outputs: readonly string[], workload: Workload) =>
  validateFloor(outputs[0]!, outputs[1]!, workload.expected, workload.scratchDir);

export const floor: Contender = {
  name: "floor",
  tools: ["mkfs.vfat", "mcopy", "mke2fs"],
  unavailable: () => undefined,
  prepare: () => undefined,
  build: (workload, outDir) => floorBuild(workload, outDir, false),
  validate: validateFloorOutputs,
};

/** Not a goal of the issue: shows how much of blocksmith's lead over the floor is the overlapped writeback. */
export const floorWithWriteback: Contender = {
  ...floor,
  name: "floor+writeback",
  build: (workload, outDir) => floorBuild(workload, outDir, true),
};

/** This checkout's CLI, or another build's (BLOCKSMITH_BENCH_CLI=…/dist/src/cli/main.js) to compare. */
const BLOCKSMITH_MAIN =
  process.env.BLOCKSMITH_BENCH_CLI ?? fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const RSS_PROBE = new URL("./rss-probe.js", import.meta.url);

export const blocksmith: Contender & { configFile?: string } = {
  name: "blocksmith",
  tools: ["mkfs.vfat", "mcopy", "mke2fs"],
  unavailable() {
    // commander answers an unknown command's --help with the main help and status 0, so the status
    // alone does not tell; the build command's own usage line does.
    const probe = spawnSync(process.execPath, [BLOCKSMITH_MAIN, "build", "--help"], { encoding: "utf8" });
    if (probe.status === 0 && /Usage: \S+ build\b/.test(probe.stdout)) return undefined;
    return "`blocksmith build` is not on this branch yet (`main.js build --help` has no build usage)";
  },
  prepare(workload, configDir) {
    this.configFile = join(configDir, "blocksmith.yaml");
    writeFileSync(this.configFile, blocksmithConfig(workload));
  },
  async build(workload, outDir) {
    const image = join(outDir, "disk.raw");
    const rssFile = join(outDir, "node-rss.txt");
    const argv = [process.execPath, BLOCKSMITH_MAIN, "build", this.configFile!, "-o", image];
    argv.push("--root", workload.treeDir, "--seed", workload.seedUuid);
    const env = {
      SOURCE_DATE_EPOCH: workload.sourceDateEpoch,
      NODE_OPTIONS: `--import=${RSS_PROBE.href}`,
      BLOCKSMITH_BENCH_RSS_FILE: rssFile,
    };
    const { peakRssKiB } = await runMeasured(argv, "blocksmith build", outDir, env);
    const perProcess = existsSync(rssFile) ? readFileSync(rssFile, "utf8").split("\n").filter(Boolean) : [];
    const nodeRssKiB = perProcess.length > 0 ? Math.max(...perProcess.map(Number)) : undefined;
    rmSync(rssFile, { force: true });
    return { outputs: [image], peakRssKiB, ...(nodeRssKiB !== undefined ? { nodeRssKiB } : {}) };
  },
  validate: validateOneDisk,
};

export function blocksmithConfig(workload: Workload): string {
  return `# Offline-build benchmark: GPT, ESP (vfat) at /boot/efi, ext4 root in the rest.
- local_loop:
    name: image0
    size: ${workload.diskSizeBytes / MiB}MiB
- partitioning:
    base: image0
    label: gpt
    partitions:
      - name: ESP
        type: "EF00"
        size: ${workload.espSizeBytes / MiB}MiB
        mkfs:
          type: vfat
          label: EFI
          mount:
            mount_point: /boot/efi
      - name: root
        type: "8304"
        size: 100%
        mkfs:
          type: ext4
          label: root
          mount:
            mount_point: /
`;
}

/**
 * repart 252 fills a file system by mounting it (a loop device and mount(2); --offline came later), so it
 * needs root, and the ESP's CopyFiles= needs a kernel with vfat. Without vfat the ESP is formatted by
 * repart and filled with mcopy afterwards, inside the timing.
 */
const kernelHasVfat = () => /\bvfat\b/.test(readFileSync("/proc/filesystems", "utf8"));

export const repart: Contender & { definitionsDir?: string } = {
  name: "systemd-repart",
  tools: ["systemd-repart", "mcopy", "sfdisk"],
  unavailable() {
    if (process.getuid?.() !== 0)
      return "systemd-repart 252 populates file systems through mounts: needs root";
    if (!existsSync("/dev/loop-control"))
      return "systemd-repart 252 needs loop devices: no /dev/loop-control";
    return undefined;
  },
  prepare(workload, configDir) {
    this.definitionsDir = join(configDir, "repart.d");
    mkdirSync(this.definitionsDir, { recursive: true });
    const espCopy = kernelHasVfat() ? `CopyFiles=${workload.espDir}:/\n` : "";
    const espSize = `${workload.espSizeBytes / MiB}M`;
    writeFileSync(
      join(this.definitionsDir, "10-esp.conf"),
      `[Partition]\nType=esp\nLabel=EFI\nFormat=vfat\nSizeMinBytes=${espSize}\nSizeMaxBytes=${espSize}\n${espCopy}`,
    );
    writeFileSync(
      join(this.definitionsDir, "20-root.conf"),
      `[Partition]\nType=root\nLabel=root\nFormat=ext4\nCopyFiles=${workload.rootSubtreeDir}:/\n`,
    );
  },
  async build(workload, outDir) {
    const image = join(outDir, "disk.raw");
    const argv = ["systemd-repart", "--empty=create", `--size=${workload.diskSizeBytes}`, "--dry-run=no"];
    argv.push("--pretty=no", `--definitions=${this.definitionsDir!}`, `--seed=${workload.seedUuid}`, image);
    let { peakRssKiB } = await runMeasured(argv, "systemd-repart", outDir);
    if (!kernelHasVfat()) {
      const { stdout } = await runCommand(["sfdisk", "-J", image], { purpose: "find repart's ESP" });
      const espStart = (JSON.parse(stdout) as { partitiontable: { partitions: { start: number }[] } })
        .partitiontable.partitions[0]!.start;
      const target = `${image}@@${espStart * 512}`;
      const copy = ["mcopy", "-s", "-m", "-i", target, ...espSources(workload), "::/"];
      const measured = await runMeasured(copy, "fill repart's ESP", outDir, { MTOOLS_SKIP_CHECK: "1" });
      peakRssKiB = Math.max(peakRssKiB, measured.peakRssKiB);
    }
    return { outputs: [image], peakRssKiB };
  },
  validate: validateOneDisk,
};

export const genimage: Contender & { configFile?: string; inputDir?: string } = {
  name: "genimage",
  tools: ["genimage", "mkfs.vfat", "mcopy", "mke2fs", "e2fsck"],
  unavailable: () => undefined,
  prepare(workload, configDir) {
    this.configFile = join(configDir, "genimage.cfg");
    this.inputDir = join(configDir, "genimage-input");
    mkdirSync(this.inputDir, { recursive: true });
    writeFileSync(this.configFile, genimageConfig(workload));
  },
  async build(workload, outDir) {
    const tmpDir = join(outDir, "tmp");
    const imagesDir = join(outDir, "images");
    mkdirSync(tmpDir);
    mkdirSync(imagesDir);
    const argv = ["genimage", "--config", this.configFile!, "--rootpath", workload.rootSubtreeDir];
    argv.push("--tmppath", tmpDir, "--inputpath", this.inputDir!, "--outputpath", imagesDir);
    const { peakRssKiB } = await runMeasured(argv, "genimage", outDir);
    return { outputs: [join(imagesDir, "disk.img")], peakRssKiB };
  },
  validate: validateOneDisk,
};

/**
 * srcpath, not mountpoint: with mountpoints genimage first copies the whole rootpath into tmppath and
 * then splits it, work the other contenders do not do; srcpath is genimage at its fastest.
 */
export function genimageConfig(workload: Workload): string {
  return `image esp.vfat {
  vfat {
    label = "EFI"
  }
  size = ${workload.espSizeBytes / MiB}M
  srcpath = "${workload.espDir}"
  temporary = true
}

image root.ext4 {
  ext4 {
    use-mke2fs = true
    label = "root"
  }
  size = ${workload.rootSizeBytes / MiB}M
  srcpath = "${workload.rootSubtreeDir}"
  temporary = true
}

image disk.img {
  hdimage {
    partition-table-type = "gpt"
  }
  size = ${workload.diskSizeBytes / MiB}M
  partition esp {
    partition-type-uuid = "U"
    image = "esp.vfat"
    offset = ${workload.espOffsetBytes / MiB}M
  }
  partition root {
    partition-type-uuid = "${ROOT_TYPE.toLowerCase()}"
    image = "root.ext4"
  }
}
`;
}

export const CONTENDERS: readonly Contender[] = [floor, floorWithWriteback, blocksmith, repart, genimage];

/** Removes a contender's output directory between rounds (outputs are 4 GiB sparse files each). */
export function clearDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
