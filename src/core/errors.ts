/**
 * Error families. Each has its own exit code, listed in README.md ("Exit codes"), so scripts can tell a
 * bad config from a missing tool from a failed command.
 */

/** Where in a config file something is: the file, the key path inside it and, when known, line/column. */
export interface SourceRef {
  file: string;
  /** Key path from the document root, e.g. [1, "partitioning", "partitions", 0, "size"]. */
  path: (string | number)[];
  line?: number;
  column?: number;
}

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  layout: 4,
  params: 5,
  state: 6,
  tool: 7,
  command: 8,
  internal: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Renders a key path as `[1].partitioning.partitions[0].size`. */
export function formatKeyPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out === "" ? "(document root)" : out;
}

export function formatSourceRef(ref: SourceRef): string {
  const position =
    ref.line !== undefined ? `:${ref.line}${ref.column !== undefined ? `:${ref.column}` : ""}` : "";
  return `${ref.file}${position}: ${formatKeyPath(ref.path)}`;
}

/** One thing wrong with a config: what, where and how to fix it. */
export interface Problem {
  message: string;
  hint?: string;
  at?: SourceRef;
}

export function formatProblem(problem: Problem): string {
  const where = problem.at ? `${formatSourceRef(problem.at)}: ` : "";
  const hint = problem.hint ? `\n    hint: ${problem.hint}` : "";
  return `${where}${problem.message}${hint}`;
}

export abstract class BlocksmithError extends Error {
  abstract readonly exitCode: ExitCodeValue;
  /** Machine-readable family name, used in `--json` error output. */
  abstract readonly kind: string;
}

/** An error that carries every problem found, not just the first. */
abstract class ProblemsError extends BlocksmithError {
  constructor(
    readonly problems: Problem[],
    what: string,
  ) {
    super(
      problems.length === 1
        ? formatProblem(problems[0]!)
        : `${problems.length} ${what}:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`,
    );
  }
}

/** The config (YAML/JSON) is malformed or inconsistent. */
export class ConfigError extends ProblemsError {
  readonly exitCode = ExitCode.config;
  readonly kind = "config";
  constructor(problems: Problem[]) {
    super(problems, "problems in the config");
    this.name = "ConfigError";
  }
}

/** The config is well-formed but its sizes cannot be laid out on the disk(s). */
export class LayoutError extends ProblemsError {
  readonly exitCode = ExitCode.layout;
  readonly kind = "layout";
  constructor(problems: Problem[]) {
    super(problems, "layout problems");
    this.name = "LayoutError";
  }
}

/** The DIB params file is missing, malformed or lacks a key. */
export class ParamsError extends BlocksmithError {
  readonly exitCode = ExitCode.params;
  readonly kind = "params";
  constructor(message: string) {
    super(message);
    this.name = "ParamsError";
  }
}

/** The state directory is missing or does not hold what a phase needs (e.g. `getval` before `init`). */
export class StateError extends BlocksmithError {
  readonly exitCode = ExitCode.state;
  readonly kind = "state";
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

/** blocksmith cannot do this (yet) with this config, in this mode; nothing was touched. */
export class UnsupportedError extends BlocksmithError {
  readonly exitCode = ExitCode.config;
  readonly kind = "unsupported";
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedError";
  }
}

/** A file system could not be filled from the tree (a name the format cannot hold, an unreadable file). */
export class PopulateError extends BlocksmithError {
  readonly exitCode = ExitCode.failure;
  readonly kind = "populate";
  constructor(message: string) {
    super(message);
    this.name = "PopulateError";
  }
}

/** Bad command-line usage (unknown getval symbol, missing argument). */
export class UsageError extends BlocksmithError {
  readonly exitCode = ExitCode.usage;
  readonly kind = "usage";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A problem in a layout computation, before it is tied to a config location by the planner. */
export class LayoutProblem extends Error {
  constructor(
    message: string,
    /** Index of the offending item (partition, LV, …) in its list, when there is one. */
    readonly itemIndex?: number,
    /** Key of the offending item, e.g. "size". */
    readonly key?: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "LayoutProblem";
  }
}
