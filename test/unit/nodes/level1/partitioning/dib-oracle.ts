/**
 * Test helpers that run the real peers: diskimage-builder's own `Partitioning` code (with `exec_sudo`
 * replaced by a plain run, so sgdisk works on a sparse file without sudo), sgdisk and `sfdisk -J` to
 * read back what was written. Not a test file itself.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PYTHON = "/usr/bin/python3";
const onCi = process.env.CI === "true";

function runs(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { encoding: "utf8" });
  return result.error === undefined && result.status === 0;
}

/**
 * Why the external-tool tests cannot run here, or undefined when they can. On CI a missing tool is a
 * failure, not a skip, so the differential tests cannot silently vanish.
 */
export function missingTools(needs: { dib?: boolean; sgdisk?: boolean }): string | undefined {
  const missing: string[] = [];
  if (!runs("sfdisk", ["--version"])) missing.push("sfdisk");
  if (needs.sgdisk && !runs("sgdisk", ["--version"])) missing.push("sgdisk");
  if (needs.dib && !runs(PYTHON, ["-c", "import diskimage_builder.block_device.level1.partitioning"])) {
    missing.push(`diskimage-builder (importable by ${PYTHON})`);
  }
  if (missing.length === 0) return undefined;
  const reason = `not installed: ${missing.join(", ")}`;
  if (onCi) throw new Error(`CI=true but ${reason}`);
  console.log(`# skipping tests that need ${missing.join(", ")}: ${reason}`);
  return reason;
}

export class ScratchDir {
  readonly path = mkdtempSync(join(tmpdir(), "blocksmith-partitioning-"));
  private count = 0;

  /** A new sparse file of `sizeBytes`. */
  sparseFile(sizeBytes: number): string {
    this.count += 1;
    const file = join(this.path, `disk${this.count}.img`);
    writeFileSync(file, "");
    truncateSync(file, sizeBytes);
    return file;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface DibPartition {
  name: string;
  size: string;
  flags?: string[];
  type?: string;
}

export interface DibCase {
  path: string;
  label: "mbr" | "gpt";
  /** DIB's `align` key, as a size spec; MBR only (DIB ignores it for GPT). */
  align?: string;
  partitions: DibPartition[];
}

export type DibResult = { ok: true; argv: string[] | null } | { ok: false; error: string };

// Drives partitioning.py's own `_create_mbr` / `_create_gpt`; `exec_sudo` runs the command directly
// and records it, so the GPT case runs the exact sgdisk argv DIB builds.
const ORACLE = `
import json, subprocess, sys
import diskimage_builder.block_device.level1.partitioning as P
captured = []
def run(cmd):
    captured.append(cmd)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError("%s exited %d: %s" % (cmd[0], done.returncode, done.stderr.strip()))
    return done.stdout
P.exec_sudo = run
results = []
for case in json.load(sys.stdin):
    captured.clear()
    config = {"base": "image0", "label": case["label"],
              "partitions": [dict(p, base="parts") for p in case["partitions"]]}
    if "align" in case:
        config["align"] = case["align"]
    try:
        state = {"blockdev": {"image0": {"image": case["path"], "device": "/dev/loop99"}}}
        part = P.Partitioning(config, {}, state)
        part.image_path = case["path"]
        part.device_path = "/dev/loop99"
        part.disk_size = part._size_of_block_dev(case["path"])
        part._create_mbr() if case["label"] == "mbr" else part._create_gpt()
        results.append({"ok": True, "argv": captured[0] if captured else None})
    except Exception as e:
        results.append({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
print(json.dumps(results))
`;

/**
 * Runs DIB on every case; each case's image must already exist. sgdisk sleeps a second after every write
 * (`sync(); sleep(1)` in its DiskSync), so the cases are spread over a few Python processes that run at
 * the same time. Argv arrays only, no shell.
 */
export async function runDib(cases: DibCase[], processes = 16): Promise<DibResult[]> {
  const chunkSize = Math.max(1, Math.ceil(cases.length / processes));
  const chunks: DibCase[][] = [];
  for (let i = 0; i < cases.length; i += chunkSize) chunks.push(cases.slice(i, i + chunkSize));
  const results = await Promise.all(chunks.map((chunk) => runOracle(chunk)));
  return results.flat();
}

function runOracle(cases: DibCase[]): Promise<DibResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-c", ORACLE], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("close", (status) => {
      if (status !== 0) reject(new Error(`DIB oracle exited ${status}: ${stderr}`));
      else resolve(JSON.parse(stdout) as DibResult[]);
    });
    child.stdin.end(JSON.stringify(cases));
  });
}

export interface SfdiskPartition {
  number: number;
  start: number;
  size: number;
  type: string;
  bootable: boolean;
  name: string;
}

export interface SfdiskTable {
  label: string;
  firstLba?: number;
  lastLba?: number;
  partitions: SfdiskPartition[];
}

interface SfdiskJson {
  partitiontable: {
    label: string;
    firstlba?: number;
    lastlba?: number;
    partitions?: {
      node: string;
      start: number;
      size: number;
      type: string;
      bootable?: boolean;
      name?: string;
    }[];
  };
}

/** The partition table of an image as `sfdisk -J` reads it, or undefined when it finds none. */
export function readTable(image: string): SfdiskTable | undefined {
  const result = spawnSync("sfdisk", ["-J", image], { encoding: "utf8" });
  if (result.status !== 0) return undefined;
  const table = (JSON.parse(result.stdout) as SfdiskJson).partitiontable;
  return {
    label: table.label,
    ...(table.firstlba !== undefined ? { firstLba: table.firstlba } : {}),
    ...(table.lastlba !== undefined ? { lastLba: table.lastlba } : {}),
    partitions: (table.partitions ?? []).map((p) => ({
      // sfdisk names partitions "<image><number>".
      number: Number(/(\d+)$/.exec(p.node)?.[1]),
      start: p.start,
      size: p.size,
      type: p.type,
      bootable: p.bootable === true,
      name: p.name ?? "",
    })),
  };
}

/** Deterministic PRNG (mulberry32) so the generated differential configs are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
