/**
 * blocksmith command line. Exit codes are listed in README.md ("Exit codes"); every error says what
 * is wrong, where, and how to fix it. `--json` prints machine-readable output (errors included).
 * `runCli` takes its output streams and environment as arguments so tests can run it in-process.
 */
import { Command, CommanderError, Option } from "commander";
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { loadConfig, readConfigFile, configToGraph } from "../config/load.js";
import { readParams, type Params } from "../config/params.js";
import { graphToJson } from "../config/tree-to-graph.js";
import { BlocksmithError, ConfigError, ExitCode, LayoutError, UsageError } from "../core/errors.js";
import { checkSizeSyntax } from "../core/size.js";
import { parseSource } from "../core/source.js";
import { planLayout } from "../plan/planner.js";
import type { DeviceEvent } from "../device/session.js";
import type { Owner } from "../offline/namespace.js";
import { GETVAL_SYMBOLS, runGetval, runInit } from "./dib-phases.js";
import { renderPlan } from "./render-plan.js";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** stderr is a terminal: show a live elapsed-time line while a long command runs. */
  stderrIsTty?: boolean;
}

/** On a terminal, a line that counts the seconds of a command running longer than a second. */
export class CommandTicker {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly io: CliIo) {}

  start(purpose: string): void {
    this.stop();
    if (!this.io.stderrIsTty) return;
    const started = Date.now();
    this.timer = setInterval(() => {
      this.io.stderr(`\r\x1b[K    … ${purpose} (${Math.round((Date.now() - started) / 1000)} s)`);
    }, 1000);
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.io.stderr("\r\x1b[K");
  }
}

/** State of one invocation: where output goes and whether errors are wanted as JSON. */
class Invocation {
  jsonErrors = false;
  constructor(readonly io: CliIo) {}

  print(text: string): void {
    this.io.stdout(text.endsWith("\n") ? text : `${text}\n`);
  }

  printJson(value: unknown): void {
    this.print(JSON.stringify(value, null, 2));
  }
}

function sizeOption(value: string): string {
  const problem = checkSizeSyntax(value, false);
  if (problem) throw new UsageError(`--size: ${problem}`);
  return value;
}

function paramsFrom(program: Command, cli: Invocation): Params {
  const file = (program.opts().params as string | undefined) ?? cli.io.env.DIB_BLOCK_DEVICE_PARAMS_YAML;
  if (!file) throw new UsageError("this command needs --params FILE (or $DIB_BLOCK_DEVICE_PARAMS_YAML)");
  const { params, warnings } = readParams(file);
  for (const warning of warnings) cli.io.stderr(`blocksmith: warning: ${warning}\n`);
  return params;
}

interface BuildCliOptions {
  output: string;
  size?: string;
  root?: string;
  seed?: string;
  format: "raw" | "qcow2";
  bmap?: boolean;
  owner: Owner;
  force?: boolean;
  verbose?: boolean;
  json?: boolean;
}

function buildProgram(cli: Invocation): Command {
  const program = new Command();
  program
    .name("blocksmith")
    .description(
      "Block-device layer for disk images from one declarative YAML config (diskimage-builder compatible).",
    )
    .version("0.1.0")
    .option("--params <file>", "DIB params file (default: $DIB_BLOCK_DEVICE_PARAMS_YAML)")
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: cli.io.stdout, writeErr: cli.io.stderr })
    .exitOverride();

  program
    .command("graph")
    .description("print the canonical graph form of CONFIG as JSON (what DIB's config_tree_to_graph gives)")
    .argument("<config>", "YAML or JSON config")
    .option("--no-validate", "only convert tree → graph; skip validation")
    .option("--json", "print errors as JSON too (the graph itself is always JSON)")
    .action((file: string, options: { validate: boolean; json?: boolean }) => {
      cli.jsonErrors = options.json === true;
      if (options.validate) {
        cli.printJson(loadConfig(file).graph);
      } else {
        cli.printJson(graphToJson(configToGraph(parseSource(readConfigFile(file), file))));
      }
    });

  program
    .command("plan")
    .description(
      "validate CONFIG and show the exact layout: tables, a picture of each disk, mounts and fstab",
    )
    .argument("<config>", "YAML or JSON config")
    .option("--size <size>", "size of images without their own size (like DIB's image-size)", sizeOption)
    .option("--image-dir <dir>", "directory for image files (like DIB's image-dir)")
    .option("--mount-base <dir>", "where file systems are mounted during the build")
    .option("--json", "print the whole plan as JSON")
    .action(
      (file: string, options: { size?: string; imageDir?: string; mountBase?: string; json?: boolean }) => {
        cli.jsonErrors = options.json === true;
        const { model } = loadConfig(file);
        const plan = planLayout(model, {
          ...(options.size !== undefined ? { imageSize: options.size } : {}),
          ...(options.imageDir !== undefined ? { imageDir: options.imageDir } : {}),
          ...(options.mountBase !== undefined ? { mountBase: options.mountBase } : {}),
        });
        if (options.json) cli.printJson(plan);
        else cli.print(renderPlan(plan));
      },
    );

  program
    .command("schema")
    .description("print the JSON Schema of the config format")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (options: { output?: string }) => {
      const { configJsonSchema } = await import("../schema.js");
      const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
      if (options.output) writeFileSync(options.output, text);
      else cli.print(text);
    });

  program
    .command("init")
    .description("DIB phase: read the config named in the params file, validate it, write config.json")
    .option("--json", "print the result as JSON")
    .action((options: { json?: boolean }) => {
      cli.jsonErrors = options.json === true;
      const result = runInit(paramsFrom(program, cli));
      if (options.json) cli.printJson({ configJson: result.configJson, planJson: result.planJson ?? null });
      else
        cli.io.stderr(
          `blocksmith: wrote ${result.configJson}${result.planJson ? ` and ${result.planJson}` : ""}\n`,
        );
    });

  program
    .command("getval")
    .description(`DIB phase: print a value (${GETVAL_SYMBOLS.join(", ")})`)
    .argument("<symbol>", "what to print")
    .argument("[image]", "for image-path and image-block-device: which level-0 node (default image0)")
    .option("--json", "print as JSON")
    .action((symbol: string, image: string | undefined, options: { json?: boolean }) => {
      cli.jsonErrors = options.json === true;
      const value = runGetval(paramsFrom(program, cli), symbol, image);
      if (options.json) cli.printJson({ symbol, value });
      else cli.print(value);
    });

  const deviceOptions = (command: Command) =>
    command
      .option("-v, --verbose", "print every command run, with its exit code and duration")
      .option("--json", "print events as JSON lines on stdout")
      .option("--seed <text>", "derive generated UUIDs and disk ids from this seed (reproducible builds)");
  const ticker = new CommandTicker(cli.io);
  type PhaseOptions = { verbose?: boolean; json?: boolean; seed?: string; force?: boolean };
  const sessionOptions = (options: PhaseOptions) => {
    cli.jsonErrors = options.json === true;
    // Test hook for fault injection: fail before the step with this index (see test/integration).
    const failAt = cli.io.env.BLOCKSMITH_TEST_FAIL_BEFORE_STEP;
    const pauseAt = cli.io.env.BLOCKSMITH_TEST_PAUSE_BEFORE_STEP;
    return {
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.force === true ? { force: true } : {}),
      ...(failAt !== undefined ? { failBeforeStep: Number(failAt) } : {}),
      ...(pauseAt !== undefined ? { pauseBeforeStep: Number(pauseAt) } : {}),
      log: (event: DeviceEvent) => {
        if (options.json) {
          if (event.event !== "command-start") cli.io.stdout(`${JSON.stringify(event)}\n`);
        } else if (event.event === "command-start") ticker.start(event.message);
        else if (event.event === "command") {
          ticker.stop();
          if (options.verbose) cli.io.stderr(`    $ ${event.message}\n`);
        } else {
          const progress = event.step ? `[${event.step.index}/${event.step.total}] ` : "";
          cli.io.stderr(`blocksmith: ${progress}${event.node ? `${event.node}: ` : ""}${event.message}\n`);
        }
      },
    };
  };
  // Each command loads its executor when it runs: start-up pays only for what the command needs.
  const executor = () => import("../device/executor.js");
  const phases: [
    string,
    string,
    (params: Params, options: ReturnType<typeof sessionOptions>) => Promise<unknown>,
  ][] = [
    [
      "create",
      "DIB phase (root): create images, partitions, file systems and mounts",
      async (params, options) => (await executor()).runCreate(params, options),
    ],
    [
      "umount",
      "DIB phase: unmount and detach; the images stay",
      async (params, options) => (await executor()).runUmount(params, options),
    ],
    [
      "cleanup",
      "DIB phase: release what is left (not the images) and remove the state directory",
      async (params, options) => (await executor()).runCleanup(params, options),
    ],
    [
      "delete",
      "DIB phase (error path): release everything, images included, even after a crash",
      async (params, options) => (await executor()).runDelete(params, options),
    ],
  ];
  for (const [name, description, run] of phases) {
    const command = deviceOptions(program.command(name).description(description));
    if (name === "create")
      command.option(
        "--force",
        "overwrite signatures on `device` targets (as `wipe: true`); a device in use is still refused",
      );
    command.action(async (options: PhaseOptions) => {
      await run(paramsFrom(program, cli), sessionOptions(options));
    });
  }
  program
    .command("build")
    .description(
      "offline (no root, no loop device): write the whole image to one file, file systems filled from --root",
    )
    .argument("<config>", "YAML or JSON config")
    .requiredOption("-o, --output <file>", "the image to write (replaced only with --force)")
    .option("--size <size>", "size of the image when the config gives none", sizeOption)
    .option(
      "--root <dir>",
      "the future root file system: each mount point's subtree goes into its file system",
    )
    .option(
      "--seed <uuid>",
      "derive every UUID and disk id from this seed (with SOURCE_DATE_EPOCH: reproducible)",
    )
    .addOption(new Option("--format <format>", "output format").choices(["raw", "qcow2"]).default("raw"))
    .option("--bmap", "also write OUTPUT.bmap (bmaptool's block map with checksums)")
    .addOption(
      new Option("--owner <owner>", "owner of the files: root (the caller's files become root's) or keep")
        .choices(["root", "keep"])
        .default("root"),
    )
    .option("--force", "replace an existing output file")
    .option("-v, --verbose", "print every command run, with its exit code and duration")
    .option("--json", "print events as JSON lines on stdout")
    .action(async (file: string, options: BuildCliOptions) => {
      const epoch = cli.io.env.SOURCE_DATE_EPOCH;
      if (epoch !== undefined && !/^\d+$/.test(epoch))
        throw new UsageError(`SOURCE_DATE_EPOCH=${epoch}: expected whole seconds since 1970`);
      const { runBuild } = await import("../offline/build.js");
      const result = await runBuild({
        config: file,
        output: options.output,
        ...(options.size !== undefined ? { size: options.size } : {}),
        ...(options.root !== undefined ? { root: options.root } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        format: options.format,
        bmap: options.bmap === true,
        force: options.force === true,
        owner: options.owner,
        ...(epoch !== undefined ? { epochSeconds: Number(epoch) } : {}),
        log: sessionOptions(options).log,
      });
      if (options.json)
        cli.io.stdout(
          `${JSON.stringify({ event: "done", output: result.output, bmap: result.bmap ?? null })}\n`,
        );
      else cli.io.stderr(`blocksmith: wrote ${result.output}${result.bmap ? ` and ${result.bmap}` : ""}\n`);
    });

  program
    .command("writefstab")
    .description(
      "DIB phase: write <build-dir>/built/etc/fstab (and crypttab when the image has LUKS volumes)",
    )
    .action(async () => {
      const { runWritefstab } = await executor();
      for (const file of runWritefstab(paramsFrom(program, cli)))
        cli.io.stderr(`blocksmith: wrote ${file}\n`);
    });

  return program;
}

function reportError(cli: Invocation, error: unknown): number {
  if (error instanceof BlocksmithError) {
    if (cli.jsonErrors) {
      const problems =
        error instanceof ConfigError || error instanceof LayoutError
          ? error.problems
          : [{ message: error.message }];
      cli.io.stderr(`${JSON.stringify({ error: error.kind, exitCode: error.exitCode, problems })}\n`);
    } else {
      cli.io.stderr(`blocksmith: ${error.kind} error: ${error.message}\n`);
    }
    return error.exitCode;
  }
  if (error instanceof z.ZodError) {
    cli.io.stderr(`blocksmith: internal validation error: ${error.message}\n`);
    return ExitCode.internal;
  }
  cli.io.stderr(`blocksmith: internal error: ${(error as Error).stack ?? String(error)}\n`);
  return ExitCode.internal;
}

/** Runs the CLI on `args` (without the node and script names) and returns the exit code. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const cli = new Invocation(io);
  const program = buildProgram(cli);
  try {
    await program.parseAsync(args, { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage mistakes exit with the usage code.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    return reportError(cli, error);
  }
}
