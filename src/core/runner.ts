/**
 * The one way blocksmith runs external commands: an argv array (never a shell), logged before it runs,
 * timed, with stderr captured, and a failure turned into a CommandError that says what was run, why,
 * and what the command printed. Device and offline mode go through `runCommand` only.
 */
import { spawn } from "node:child_process";
import { BlocksmithError, ExitCode } from "./errors.js";

export interface CommandLogEntry {
  argv: readonly string[];
  /** Why blocksmith runs it, in words ("make ext4 on root"). */
  purpose: string;
  phase: "start" | "end";
  exitCode?: number;
  durationMs?: number;
}

export interface RunOptions {
  purpose: string;
  /** Text for the command's standard input (e.g. a key, never put on the command line). */
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Receives a line before and after every command (the `-v` output, the JSON event stream). */
  log?: (entry: CommandLogEntry) => void;
}

/** How code that runs commands receives the runner: already bound to a log, asked for a purpose. */
export type Runner = (
  argv: readonly string[],
  purpose: string,
  extra?: Pick<RunOptions, "input" | "env">,
) => Promise<CommandResult>;

export interface CommandResult {
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Debian packages of the tools blocksmith runs, for "install X" hints. */
export const DEBIAN_PACKAGE_OF: Readonly<Record<string, string>> = {
  sfdisk: "fdisk",
  sgdisk: "gdisk",
  losetup: "mount",
  mount: "mount",
  umount: "mount",
  partx: "util-linux",
  wipefs: "util-linux",
  blkid: "util-linux",
  fstrim: "util-linux",
  "mkfs.ext2": "e2fsprogs",
  "mkfs.ext3": "e2fsprogs",
  "mkfs.ext4": "e2fsprogs",
  mke2fs: "e2fsprogs",
  "mkfs.xfs": "xfsprogs",
  "mkfs.vfat": "dosfstools",
  "mkfs.fat": "dosfstools",
  "mkfs.btrfs": "btrfs-progs",
  mkswap: "util-linux",
  mkfs: "util-linux",
  mcopy: "mtools",
  debugfs: "e2fsprogs",
  dumpe2fs: "e2fsprogs",
  xfs_io: "xfsprogs",
  unshare: "util-linux",
  nsenter: "util-linux",
  pvcreate: "lvm2",
  vgcreate: "lvm2",
  lvcreate: "lvm2",
  vgchange: "lvm2",
  vgremove: "lvm2",
  vgs: "lvm2",
  lvchange: "lvm2",
  lvremove: "lvm2",
  lvs: "lvm2",
  pvremove: "lvm2",
  pvs: "lvm2",
  dmsetup: "dmsetup",
  cryptsetup: "cryptsetup-bin",
  mdadm: "mdadm",
  kpartx: "kpartx",
  "qemu-img": "qemu-utils",
  udevadm: "udev",
};

/** A command exited non-zero, was killed, or timed out. */
export class CommandError extends BlocksmithError {
  readonly exitCode = ExitCode.command;
  readonly kind = "command";
  constructor(
    readonly argv: readonly string[],
    readonly purpose: string,
    readonly commandExitCode: number | undefined,
    readonly stderr: string,
    readonly reason: string,
  ) {
    const tail = stderr.trim().split("\n").slice(-8).join("\n    ");
    super(`${purpose}: \`${formatArgv(argv)}\` ${reason}${tail ? `:\n    ${tail}` : ""}`);
    this.name = "CommandError";
  }
}

/** A tool blocksmith needs is not installed. */
export class ToolMissingError extends BlocksmithError {
  readonly exitCode = ExitCode.tool;
  readonly kind = "tool";
  constructor(readonly tools: readonly string[]) {
    const hints = tools.map((tool) =>
      DEBIAN_PACKAGE_OF[tool] ? `${tool} (Debian package ${DEBIAN_PACKAGE_OF[tool]})` : tool,
    );
    const packages = [...new Set(tools.map((tool) => DEBIAN_PACKAGE_OF[tool]).filter(Boolean))];
    super(
      `missing tool${tools.length > 1 ? "s" : ""}: ${hints.join(", ")}` +
        (packages.length > 0 ? `\n    hint: apt-get install ${packages.join(" ")}` : ""),
    );
    this.name = "ToolMissingError";
  }
}

/** Shell-like rendering for messages and logs only; nothing is ever run through a shell. */
export function formatArgv(argv: readonly string[]): string {
  return argv
    .map((arg) => (/^[\w@%+=:,./{}-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}

/** mkfs and friends live in /usr/sbin, which an ordinary user's PATH often lacks (offline builds). */
function withSbin(path = ""): string {
  const dirs = path.split(":").filter(Boolean);
  for (const dir of ["/usr/sbin", "/sbin"]) if (!dirs.includes(dir)) dirs.push(dir);
  return dirs.join(":");
}

export async function runCommand(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error("internal: empty argv");
  options.log?.({ argv, purpose: options.purpose, phase: "start" });
  const started = performance.now();
  const outcome = await spawnCollect(file, args, options);
  const durationMs = performance.now() - started;
  const exitCode = outcome.code ?? -1;
  options.log?.({ argv, purpose: options.purpose, phase: "end", exitCode, durationMs });
  if (outcome.spawnError !== undefined) {
    if (outcome.spawnError.code === "ENOENT") throw new ToolMissingError([file]);
    throw new CommandError(
      argv,
      options.purpose,
      undefined,
      "",
      `could not be started: ${outcome.spawnError.message}`,
    );
  }
  if (outcome.timedOut || outcome.signal !== null || outcome.code !== 0) {
    const reason = outcome.timedOut
      ? `timed out after ${options.timeoutMs} ms`
      : outcome.signal !== null
        ? `was killed by ${outcome.signal}`
        : `failed with exit code ${outcome.code}`;
    throw new CommandError(argv, options.purpose, outcome.code ?? undefined, outcome.stderr, reason);
  }
  return { stdout: outcome.stdout, stderr: outcome.stderr, durationMs };
}

interface SpawnOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  spawnError?: NodeJS.ErrnoException;
}

/**
 * node:child_process directly, not execa: execa took a quarter of a second to import here (a third of
 * blocksmith's start-up) and 16 MiB, which every offline build and its namespace worker paid.
 */
function spawnCollect(file: string, args: readonly string[], options: RunOptions): Promise<SpawnOutcome> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env: { ...process.env, LC_ALL: "C", PATH: withSbin(process.env.PATH), ...options.env },
      stdio: [options.input !== undefined ? "pipe" : "ignore", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, options.timeoutMs)
        : undefined;
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on("error", (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });
    if (options.input !== undefined) {
      // A command that exits without reading its input closes the pipe: not an error of ours.
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(options.input);
    }
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        timedOut,
        ...(spawnError !== undefined ? { spawnError } : {}),
      });
    });
  });
}

/** Checks that every tool is on PATH before any work starts; throws one error naming all missing. */
export async function requireTools(tools: Iterable<string>, path = process.env.PATH ?? ""): Promise<void> {
  const { access, constants } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const dirs = [...path.split(":").filter(Boolean), "/usr/sbin", "/sbin"];
  const missing: string[] = [];
  for (const tool of new Set(tools)) {
    let found = false;
    for (const dir of dirs) {
      try {
        await access(join(dir, tool), constants.X_OK);
        found = true;
        break;
      } catch {
        // not in this directory
      }
    }
    if (!found) missing.push(tool);
  }
  if (missing.length > 0) throw new ToolMissingError(missing);
}
