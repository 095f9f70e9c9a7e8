/**
 * Entry point run by namespace.ts inside `unshare`: builds the staging view, runs the job's commands on
 * it, and reports every command (and a failure) as JSON lines in the job's events file. Exit status 1
 * on failure; the parent turns the recorded error into a CommandError naming the inner command.
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CommandError, runCommand, type Runner } from "../core/runner.js";
import type { WorkerEvent, WorkerJob } from "./namespace.js";
import { xfsProto } from "../nodes/level2/mkfs/xfs-proto.js";
import { buildStaging } from "./staging.js";

function expand(argv: readonly string[], staging: string, protoFile: string | undefined): string[] {
  return argv.flatMap((arg) => {
    if (arg === "{proto}" && protoFile !== undefined) return [protoFile];
    if (arg === "{staging-entries}")
      return readdirSync(staging)
        .sort()
        .map((entry) => join(staging, entry));
    return [arg.replaceAll("{staging}", staging)];
  });
}

async function main(jobFile: string): Promise<number> {
  const job = JSON.parse(readFileSync(jobFile, "utf8")) as WorkerJob;
  const emit = (event: WorkerEvent) => appendFileSync(job.eventsFile, `${JSON.stringify(event)}\n`);
  const run: Runner = (argv, purpose, extra) =>
    runCommand(argv, {
      purpose,
      timeoutMs: 60 * 60 * 1000,
      ...extra,
      log: (entry) => {
        if (entry.phase === "end") emit({ log: entry });
      },
    });
  let current: { argv: string[]; purpose: string } = { argv: [], purpose: "build the staging view" };
  try {
    await buildStaging(job.staging, (argv, purpose, extra) => {
      current = { argv: [...argv], purpose };
      return run(argv, purpose, extra);
    });
    if (job.protoFile !== undefined) {
      current = { argv: [], purpose: "describe the view as an xfs protofile" };
      writeFileSync(job.protoFile, xfsProto(job.staging.staging));
    }
    for (const command of job.commands) {
      const argv = expand(command.argv, job.staging.staging, job.protoFile);
      // An mcopy of an empty directory has nothing to copy (and mcopy refuses no sources).
      if (command.argv.includes("{staging-entries}") && argv.length === command.argv.length - 1) continue;
      current = { argv, purpose: command.purpose };
      await run(argv, command.purpose, command.env !== undefined ? { env: command.env } : {});
    }
    return 0;
  } catch (error) {
    const failure =
      error instanceof CommandError
        ? {
            argv: [...error.argv],
            purpose: error.purpose,
            exitCode: error.commandExitCode ?? null,
            stderr: error.stderr,
            message: error.reason,
          }
        : {
            // No command failed: blocksmith's own work did (argv stays empty, the parent knows).
            argv: [],
            purpose: current.purpose,
            exitCode: null,
            stderr: (error as Error).message,
            message: `failed: ${(error as Error).message}`,
          };
    emit({ error: failure });
    return 1;
  }
}

process.exitCode = await main(process.argv[2]!);
