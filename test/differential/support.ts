/**
 * Shared machinery of the differential suites: the config corpus, the DIB oracle
 * (`oracle/dib_oracle.py`, run with the system Python that has diskimage-builder), the blocksmith
 * CLI, and a small bounded-concurrency runner so the suites stay fast on two cores.
 */
import { execFile, spawnSync } from "node:child_process";
import { runCli } from "../../src/cli/program.js";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: this file runs from dist/test/differential/. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SYSTEM_PYTHON = "/usr/bin/python3";
export const ORACLE = join(REPO_ROOT, "test/differential/oracle/dib_oracle.py");
/** blocksmith's CLI; BLOCKSMITH_CLI points the suites at another build (e.g. a release under test). */
export const CLI = process.env.BLOCKSMITH_CLI ?? join(REPO_ROOT, "dist/src/cli/main.js");
/**
 * PATH for the tools and the oracle: sfdisk and sgdisk live in /usr/sbin, which is not on a
 * non-root user's PATH on Debian.
 */
const TOOL_PATH = [
  ...(process.env.PATH ?? "").split(":").filter((dir) => dir !== ""),
  "/usr/sbin",
  "/sbin",
].join(":");
const CHILD_ENV = { ...process.env, PATH: TOOL_PATH };
/** Two cores: at most this many child processes at a time. */
export const CONCURRENCY = 2;
const DEFAULT_IMAGE_SIZE = "4GiB";

// ---------------------------------------------------------------------------------------------------
// Environment

/**
 * Why the differential suites cannot run here, or undefined when they can. DIB must be importable by
 * the system Python (the `python3` on PATH may be another build), and sfdisk/sgdisk must exist.
 */
export function missingPrerequisite(): string | undefined {
  const dib = spawnSync(SYSTEM_PYTHON, ["-c", "import diskimage_builder"], { encoding: "utf8" });
  if (dib.error || dib.status !== 0) {
    return `${SYSTEM_PYTHON} cannot import diskimage_builder (${dib.error?.message ?? dib.stderr.trim()})`;
  }
  for (const tool of ["sfdisk", "sgdisk"]) {
    const probe = spawnSync(tool, ["--version"], { encoding: "utf8", env: CHILD_ENV });
    if (probe.error) return `${tool} is not installed (${probe.error.message})`;
  }
  return undefined;
}

/** In CI a missing prerequisite is a failure, elsewhere a skip with the reason printed. */
export function prerequisiteVerdict(): { skip: string | false; fail: string | undefined } {
  const missing = missingPrerequisite();
  if (missing === undefined) return { skip: false, fail: undefined };
  if (process.env.CI === "true") return { skip: false, fail: `CI=true but ${missing}` };
  console.log(`# differential suite skipped: ${missing}`);
  return { skip: missing, fail: undefined };
}

// ---------------------------------------------------------------------------------------------------
// Corpus

export type CorpusSet = "good" | "quirks" | "bad" | "upstream" | "yaml-edge";

export interface CorpusConfig {
  /** Path relative to the repository root; what both tools get on their command line. */
  path: string;
  set: CorpusSet;
  /** `# image-size:` header, else 4GiB. */
  imageSize: string;
  imageSizeBytes: number;
  /** `# dib-stage:` header: where DIB stops (tree, graph, create, readback) or "ok". */
  dibStage: string | undefined;
  /** `# dib-error:` header: a substring of DIB's error message. */
  dibError: string | undefined;
}

const CORPUS_DIRS: [CorpusSet, string][] = [
  ["good", "test/differential/configs"],
  ["quirks", "test/differential/configs/quirks"],
  ["bad", "test/differential/configs/bad"],
  ["upstream", "test/fixtures/dib/upstream"],
  ["yaml-edge", "test/fixtures/dib/yaml-edge"],
];

function yamlFilesUnder(dir: string, recursive: boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory() && recursive) out.push(...yamlFilesUnder(full, true));
    else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out.sort();
}

function header(text: string, key: string): string | undefined {
  const match = new RegExp(`^#\\s*${key}:\\s*(.+?)\\s*$`, "m").exec(text);
  return match?.[1];
}

const UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  K: 1e3,
  KB: 1e3,
  M: 1e6,
  MB: 1e6,
  G: 1e9,
  GB: 1e9,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

/** The few size spellings used in corpus headers, as bytes (DIB's own units). */
export function headerSizeToBytes(spec: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(spec);
  const factor = match ? UNITS[match[2]!] : undefined;
  if (!match || factor === undefined) throw new Error(`unsupported image-size header "${spec}"`);
  return Math.trunc(Number(match[1]) * factor);
}

/** `image-sizes.json` next to configs that must stay verbatim: {"relative/path.yaml": "6GiB"}. */
function sidecarSizes(dir: string): Record<string, unknown> {
  const file = join(dir, "image-sizes.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
}

export function loadCorpus(): CorpusConfig[] {
  const configs: CorpusConfig[] = [];
  for (const [set, dir] of CORPUS_DIRS) {
    const root = join(REPO_ROOT, dir);
    const sizes = sidecarSizes(root);
    // Only the upstream fixtures nest (tests-config/, elements/<element>/).
    for (const file of yamlFilesUnder(root, set === "upstream")) {
      const text = readFileSync(file, "utf8");
      const sidecar = sizes[relative(root, file)];
      const imageSize =
        header(text, "image-size") ??
        (typeof sidecar === "string" ? sidecar : undefined) ??
        DEFAULT_IMAGE_SIZE;
      configs.push({
        path: relative(REPO_ROOT, file),
        set,
        imageSize,
        imageSizeBytes: headerSizeToBytes(imageSize),
        dibStage: header(text, "dib-stage"),
        dibError: header(text, "dib-error"),
      });
    }
  }
  return configs;
}

// ---------------------------------------------------------------------------------------------------
// Processes

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs argv (never a shell string) and resolves with its exit status, whatever it is. */
export function run(
  argv: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const [command, ...args] = argv;
  return new Promise((resolvePromise) => {
    const child = execFile(
      command!,
      args,
      {
        cwd: REPO_ROOT,
        env: CHILD_ENV,
        maxBuffer: 256 * 1024 * 1024,
        timeout: options.timeoutMs ?? 120_000,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        let status = 0;
        if (error) status = typeof error.code === "number" ? error.code : -1;
        resolvePromise({
          status,
          stdout,
          stderr: error && status === -1 ? `${stderr}${error.message}` : stderr,
        });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Maps with at most `limit` promises in flight, keeping the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A temporary directory under os.tmpdir(); the caller removes it in after(). */
export function makeWorkDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------------
// Oracle

export interface OracleError {
  error: string;
  exception: string;
  stage: string;
  partial?: OracleLayout;
}

export interface OracleOutcome<T> {
  exit: number;
  result: T | OracleError;
}

export interface OraclePartition {
  number: number;
  node: string;
  start: number;
  size: number;
  /** sfdisk's spelling: "83"/"f" for MBR, an upper-case GUID for GPT. */
  type: string;
  bootable: boolean;
  /** The DIB partition node behind this kernel number; null for the MBR extended container. */
  dib_node: string | null;
  name?: string;
}

export interface OraclePartitioning {
  base: string;
  dib_label: "mbr" | "gpt";
  align: number;
  image: string;
  dib_numbers: Record<string, string>;
  label?: "dos" | "gpt";
  sectorsize?: number;
  partitions?: OraclePartition[];
}

export interface OracleLayout {
  disks: Record<string, { path: string; sizeBytes: number }>;
  partitionings: Record<string, OraclePartitioning>;
  mount_order: string[];
  sorted_mount_points: [string, string][];
  fstab: string[];
  fstab_error: string | null;
  /** Every command DIB ran or would have run, in order (see the oracle). */
  commands: { module: string; argv: string[] }[];
  /** What `getval` prints after init (null where DIB's cmd_getval fails). */
  getval: Record<"root-label" | "root-fstype" | "mount-points", string | null>;
}

export interface OracleCheck {
  graph: unknown[];
  call_order: string[];
  sorted_mount_points: [string, string][];
}

export interface OracleAnswer {
  config: string;
  graph: OracleOutcome<unknown[]>;
  check: OracleOutcome<OracleCheck>;
  layout?: OracleOutcome<OracleLayout>;
}

export function isOracleError(value: unknown): value is OracleError {
  return typeof value === "object" && value !== null && "error" in value && "stage" in value;
}

/**
 * Asks DIB about every config, in `processes` Python processes (default CONCURRENCY; importing DIB,
 * networkx and stevedore costs ~0.3 s of CPU per process). With `workDir`, every config also gets a
 * layout run on sparse images in its own sub-directory; the oracle lays several configs out at once on
 * threads, because sgdisk sleeps a second after each write and those sleeps should overlap.
 */
export async function askOracle(
  configs: readonly CorpusConfig[],
  options: { workDir?: string; processes?: number } = {},
): Promise<Map<string, OracleAnswer>> {
  const { workDir, processes = CONCURRENCY } = options;
  const items = configs.map((config, index) => {
    const item: Record<string, string> = { config: config.path, size: String(config.imageSizeBytes) };
    if (workDir !== undefined) {
      const dir = join(workDir, `oracle-${index}`);
      mkdirSync(dir, { recursive: true });
      item.workdir = dir;
    }
    return item;
  });
  const batches: (typeof items)[] = Array.from({ length: processes }, () => []);
  items.forEach((item, index) => batches[index % processes]!.push(item));
  const answers = new Map<string, OracleAnswer>();
  const outputs = await mapLimit(
    batches.filter((batch) => batch.length > 0),
    processes,
    (batch) => run([SYSTEM_PYTHON, ORACLE, "batch", "--jobs", "16"], { input: JSON.stringify(batch) }),
  );
  for (const output of outputs) {
    if (output.status !== 0)
      throw new Error(`dib_oracle.py batch failed (${output.status}): ${output.stderr}`);
    for (const answer of JSON.parse(output.stdout) as OracleAnswer[]) answers.set(answer.config, answer);
  }
  return answers;
}

// ---------------------------------------------------------------------------------------------------
// blocksmith

/**
 * Runs blocksmith's CLI on `args`. In-process (the same `runCli` the executable calls) unless
 * BLOCKSMITH_CLI names another build: a Node start per config would cost most of the suite's time.
 */
export async function blocksmith(args: string[]): Promise<RunResult> {
  if (process.env.BLOCKSMITH_CLI !== undefined) return run([process.execPath, CLI, ...args]);
  let stdout = "";
  let stderr = "";
  const status = await runCli(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: CHILD_ENV,
  });
  return { status, stdout, stderr };
}

export function cliBuilt(): boolean {
  return existsSync(CLI);
}

/** A short excerpt for assertion messages. */
export function excerpt(text: string, max = 600): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max)}…` : trimmed;
}

// ---------------------------------------------------------------------------------------------------
// Mount order

/** True when `child` lies strictly below `parent` as a path ("/var/log" under "/var", not "/variable"). */
export function isBelow(child: string, parent: string): boolean {
  if (child === parent) return false;
  if (parent === "/") return child.startsWith("/");
  return child.startsWith(`${parent}/`);
}

/** The first pair mounted child-before-parent, or undefined when every parent precedes its children. */
export function nestingViolation(order: readonly string[]): [string, string] | undefined {
  for (let i = 0; i < order.length; i++) {
    for (let j = i + 1; j < order.length; j++) {
      if (isBelow(order[i]!, order[j]!)) return [order[i]!, order[j]!];
    }
  }
  return undefined;
}

/**
 * The mount order blocksmith documents (README, "Layout rules"): mount points compared component by
 * component, byte order within a level, so a parent always precedes everything below it.
 */
export function componentOrder(mountPoints: readonly string[]): string[] {
  const components = (mountPoint: string): Buffer[] =>
    mountPoint
      .split("/")
      .filter((part) => part !== "")
      .map((part) => Buffer.from(part));
  return [...mountPoints].sort((a, b) => {
    const left = components(a);
    const right = components(b);
    for (let i = 0; i < Math.min(left.length, right.length); i++) {
      const order = Buffer.compare(left[i]!, right[i]!);
      if (order !== 0) return order;
    }
    return left.length - right.length;
  });
}
