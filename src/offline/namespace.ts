/**
 * Runs the commands that make a populated file system inside a private mount namespace (and, for a
 * caller without root, a user namespace), where namespace-worker.js builds the staging view first.
 * Nothing is mounted in the caller's namespace, so nothing can leak: the view disappears with the
 * worker process. With `owner: "root"` a non-root caller is mapped to root, so its files are stored as
 * uid/gid 0 (`unshare --map-root-user`); with "keep" ids stay as they are.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PopulateError } from "../core/errors.js";
import { CommandError, type CommandLogEntry, runCommand } from "../core/runner.js";
import type { StagingSpec } from "./staging.js";

export type Owner = "root" | "keep";

export interface NamespaceCommand {
  /**
   * May contain `{staging}` (the view's directory), `{staging-entries}` (one argument per entry of it) and
   * `{proto}` (an xfs protofile of the view).
   */
  argv: string[];
  purpose: string;
  env?: Record<string, string>;
}

export interface WorkerJob {
  staging: StagingSpec;
  commands: NamespaceCommand[];
  eventsFile: string;
  /** Where to write an xfs protofile describing the view (`{proto}` in the argv), for mkfs.xfs -p. */
  protoFile?: string;
}

export type WorkerEvent =
  | { log: CommandLogEntry }
  | {
      error: {
        argv: string[];
        purpose: string;
        exitCode: number | null;
        stderr: string;
        message: string;
      };
    };

/** The `unshare` prefix for the caller and the owner mode. */
export function unshareArgv(owner: Owner, uid: number, gid: number): string[] {
  const mount = ["--mount", "--propagation", "private"];
  if (uid === 0) return ["unshare", ...mount, "--"];
  if (owner === "root") return ["unshare", "--user", "--map-root-user", ...mount, "--"];
  // Mapped to itself, the caller keeps the capabilities the new namespace gives it only with --keep-caps.
  return ["unshare", "--user", `--map-user=${uid}`, `--map-group=${gid}`, "--keep-caps", ...mount, "--"];
}

export async function runInNamespace(
  work: { tempDir: string; name: string },
  staging: Omit<StagingSpec, "staging" | "scratch">,
  commands: NamespaceCommand[],
  options: { owner: Owner; purpose: string; log: (entry: CommandLogEntry) => void },
): Promise<void> {
  const dir = mkdtempSync(join(work.tempDir, `${work.name}-`));
  try {
    const stagingDir = join(dir, "view");
    const scratch = join(dir, "scratch");
    mkdirSync(stagingDir);
    mkdirSync(scratch);
    const job: WorkerJob = {
      staging: { ...staging, staging: stagingDir, scratch },
      commands,
      eventsFile: join(dir, "events.jsonl"),
      ...(commands.some((command) => command.argv.includes("{proto}"))
        ? { protoFile: join(dir, "xfs.proto") }
        : {}),
    };
    const jobFile = join(dir, "job.json");
    writeFileSync(jobFile, JSON.stringify(job));
    const worker = fileURLToPath(new URL("./namespace-worker.js", import.meta.url));
    const argv = [
      ...unshareArgv(options.owner, process.getuid?.() ?? 0, process.getgid?.() ?? 0),
      process.execPath,
      worker,
      jobFile,
    ];
    let failure: unknown;
    try {
      await runCommand(argv, { purpose: options.purpose, timeoutMs: 60 * 60 * 1000 });
    } catch (error) {
      failure = error;
    }
    const events = readEvents(job.eventsFile);
    for (const event of events) if ("log" in event) options.log(event.log);
    const inner = events.find((event) => "error" in event);
    if (inner && "error" in inner) {
      const { argv: innerArgv, purpose, exitCode, stderr, message } = inner.error;
      if (innerArgv.length === 0) throw new PopulateError(`${purpose}: ${stderr}`);
      throw new CommandError(innerArgv, purpose, exitCode ?? undefined, stderr, message);
    }
    if (failure !== undefined) throw failure;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readEvents(file: string): WorkerEvent[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as WorkerEvent);
}
