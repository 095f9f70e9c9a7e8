/**
 * One device-mode invocation: the plan, the journal, the command runner with its log, and what has been
 * learnt at run time (which /dev/loopN an image got, the UUIDs made up for file systems).
 */
import { join } from "node:path";
import type { Params } from "../config/params.js";
import { stateDir } from "../config/params.js";
import {
  formatArgv,
  runCommand,
  type CommandLogEntry,
  type CommandResult,
  type RunOptions,
} from "../core/runner.js";
import { identifierSource, type IdentifierSource } from "../formats/identifiers.js";
import type { Plan } from "../plan/types.js";
import { Journal } from "./journal.js";

export interface DeviceEvent {
  /** "command-start" precedes every "command" (its end), so a TTY can show progress of long commands. */
  event: "step" | "command-start" | "command" | "release" | "warning";
  node?: string;
  message: string;
  argv?: readonly string[];
  durationMs?: number;
  /** Step events: 1-based position and the number of steps, for progress output. */
  step?: { index: number; total: number };
}

export interface SessionOptions {
  /** Makes generated UUIDs deterministic. */
  seed?: string;
  log: (event: DeviceEvent) => void;
  /** `create --force`: overwrite signatures on `device` targets (never overrides "in use"). */
  force?: boolean;
  /** Test hook: fail with an error just before running the step with this index (fault injection). */
  failBeforeStep?: number;
  /** Test hook: stop (forever) before the step with this index, so a test can kill the process there. */
  pauseBeforeStep?: number;
}

export class DeviceSession {
  readonly journal: Journal;
  readonly ids: IdentifierSource;
  /** Node name → device path, filled as devices appear. */
  readonly devices = new Map<string, string>();
  /** mkfs node name → UUID used. */
  readonly uuids = new Map<string, string>();
  /** luks node name → the LUKS header's UUID (read back after luksFormat; crypttab names it). */
  readonly luksUuids = new Map<string, string>();

  constructor(
    readonly plan: Plan,
    readonly params: Params,
    readonly options: SessionOptions,
  ) {
    this.journal = Journal.open(journalPath(params));
    this.ids = identifierSource(options.seed);
  }

  get mountBase(): string {
    return this.params["mount-base"] ?? join(this.params["build-dir"], "mnt");
  }

  /** `input` goes to the command's standard input (keys): it is never logged. */
  run(argv: readonly string[], purpose: string, input?: string | Buffer): Promise<CommandResult> {
    return runLogged(this.options, argv, purpose, input !== undefined ? { input } : {});
  }

  /** Replaces `{dev:NAME}`, `{uuid:NAME}` and `{mount-base}` placeholders of a planned argv. */
  resolve(argv: readonly string[]): string[] {
    return argv.map((arg) =>
      arg
        .replace(/\{dev:([^}]+)\}/g, (_, name: string) => {
          const device = this.devices.get(name);
          if (device === undefined) throw new Error(`internal: no device for ${name} yet`);
          return device;
        })
        .replace(/\{uuid:([^}]+)\}/g, (_, name: string) => this.uuid(name))
        .replace(/\{mount-base\}/g, this.mountBase),
    );
  }

  uuid(mkfsName: string): string {
    let uuid = this.uuids.get(mkfsName);
    if (uuid === undefined) {
      uuid = this.ids.uuid(`filesystem:${mkfsName}`);
      this.uuids.set(mkfsName, uuid);
    }
    return uuid;
  }
}

/** Runs a command with the session's log, also before a session exists (reading device sizes to plan). */
export function runLogged(
  options: Pick<SessionOptions, "log">,
  argv: readonly string[],
  purpose: string,
  extra: Pick<RunOptions, "input" | "env"> = {},
): Promise<CommandResult> {
  return runCommand(argv, {
    purpose,
    ...extra,
    timeoutMs: 10 * 60 * 1000,
    log: (entry: CommandLogEntry) => {
      if (entry.phase === "start")
        options.log({ event: "command-start", message: purpose, argv: entry.argv });
      else
        options.log({
          event: "command",
          message: `${formatArgv(entry.argv)} (exit ${entry.exitCode}, ${Math.round(entry.durationMs ?? 0)} ms)`,
          argv: entry.argv,
          ...(entry.durationMs !== undefined ? { durationMs: entry.durationMs } : {}),
        });
    },
  });
}

export function journalPath(params: Params): string {
  return join(stateDir(params), "journal.jsonl");
}
