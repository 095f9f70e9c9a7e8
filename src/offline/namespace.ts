/**
 * A private mount namespace (and, for a caller without root, a user namespace that maps it to root)
 * where a populated file system is made from a staging view of the tree. It is held open by a `cat`
 * reading a pipe from blocksmith, so it ends when blocksmith closes the pipe or dies: nothing mounted
 * in it can outlive the build, and nothing is ever mounted in the caller's namespace. Commands enter it
 * with `nsenter`; blocksmith reaches its files through /proc/PID/root. (No helper process of ours runs
 * inside: starting one cost a second Node start-up on every populated file system.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { UnsupportedError } from "../core/errors.js";
import type { CommandResult, Runner } from "../core/runner.js";

export type Owner = "root" | "keep";

const READY_DEADLINE_MS = 10_000;

/** The `unshare` argv that makes the namespace (the holder's command follows). */
export function unshareArgv(uid: number): string[] {
  const mount = ["--mount", "--propagation", "private"];
  return uid === 0 ? ["unshare", ...mount, "--"] : ["unshare", "--user", "--map-root-user", ...mount, "--"];
}

/** The `nsenter` prefix that runs a command inside; a mapped caller keeps its ids, which read as root there. */
export function nsenterArgv(pid: number, uid: number): string[] {
  return uid === 0
    ? ["nsenter", `--target=${pid}`, "--mount", "--"]
    : ["nsenter", `--target=${pid}`, "--user", "--mount", "--preserve-credentials", "--"];
}

export class MountNamespace {
  private constructor(
    private readonly holder: ChildProcess,
    private readonly uid: number,
    private readonly runner: Runner,
  ) {}

  /** Opens a namespace; `owner: "keep"` is only possible as root (a user namespace can map one id only). */
  static async open(owner: Owner, runner: Runner): Promise<MountNamespace> {
    const uid = process.getuid?.() ?? 0;
    if (owner === "keep" && uid !== 0)
      throw new UnsupportedError(
        "--owner keep needs root: without it, blocksmith fills file systems in a user namespace that can map " +
          "only the caller, to root; run without --owner keep (files stored as root's) or as root",
      );
    const [command, ...args] = unshareArgv(uid);
    const holder = spawn(command!, [...args, "cat"], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    holder.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    holder.on("error", () => undefined); // reported below, from the exit status
    // unshare sets the namespaces up and then becomes cat: from then on they are ready to enter.
    const deadline = Date.now() + READY_DEADLINE_MS;
    for (;;) {
      if (holder.exitCode !== null || holder.signalCode !== null || holder.pid === undefined)
        throw new UnsupportedError(
          `cannot make a private mount namespace (\`${unshareArgv(uid).join(" ")} cat\`): ${stderr.trim() || "it exited"}` +
            (uid === 0
              ? ""
              : "; unprivileged user namespaces may be disabled (sysctl user.max_user_namespaces)"),
        );
      try {
        if (readlinkSync(`/proc/${holder.pid}/exe`).endsWith("/cat")) break;
      } catch {
        // not there yet
      }
      if (Date.now() > deadline) {
        holder.kill("SIGKILL");
        throw new Error(`the namespace holder did not start within ${READY_DEADLINE_MS / 1000} s`);
      }
      await sleep(1);
    }
    return new MountNamespace(holder, uid, runner);
  }

  /** Where blocksmith finds `path` of the namespace from outside. */
  host(path: string): string {
    return `/proc/${this.holder.pid}/root${path}`;
  }

  run(argv: readonly string[], purpose: string, extra?: Parameters<Runner>[2]): Promise<CommandResult> {
    return this.runner([...nsenterArgv(this.holder.pid!, this.uid), ...argv], purpose, extra);
  }

  /** Ids as the namespace shows them: the caller is root there, everyone else the overflow id. */
  mapIds(uid: number, gid: number): [number, number] {
    if (this.uid === 0) return [uid, gid];
    const callerGid = process.getgid?.() ?? 0;
    return [uid === this.uid ? 0 : 65534, gid === callerGid ? 0 : 65534];
  }

  /** Ends the namespace (and every mount in it) and waits for the holder to go. */
  async close(): Promise<void> {
    if (this.holder.exitCode !== null || this.holder.signalCode !== null) return;
    const exited = new Promise((resolve) => this.holder.once("exit", resolve));
    this.holder.stdin?.end();
    await exited;
  }
}
