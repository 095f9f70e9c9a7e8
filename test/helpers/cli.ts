/** Runs the built CLI as a child process (argv, never a shell). */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number; cli?: string } = {},
): CliResult {
  const result = spawnSync(process.execPath, [options.cli ?? CLI, ...args], {
    encoding: "utf8",
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    timeout: 120_000,
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Starts `create` paused before `step` and kills it with SIGKILL once it says it is paused. */
export function createKilledAt(params: string, step: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "--params", params, "create"], {
      env: { ...process.env, BLOCKSMITH_TEST_PAUSE_BEFORE_STEP: String(step) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`create did not pause before step ${step}: ${stderr}`));
    }, 60_000);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes(`paused before step ${step}`)) child.kill("SIGKILL");
    });
    child.on("exit", (_code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`create ended without being killed at step ${step}: ${stderr}`));
    });
  });
}
