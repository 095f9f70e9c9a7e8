/**
 * DIB's tree → graph conversion (`config_tree_to_graph` in diskimage_builder/block_device/config.py),
 * reproduced exactly so `blocksmith graph` prints what DIB derives:
 * - a nested plugin key becomes its own entry whose `base` is the enclosing entry's `name`;
 * - a missing `name` becomes `<plugin>_<base>`;
 * - `partitions` stays inside its partitioning entry, each partition gets the partitioning's `base`,
 *   and plugins nested in a partition get the partition's name as base;
 * - entries are emitted children first (post-order), keys in the order `base`, `name`, then the rest.
 * Unlike DIB (which crashes with a KeyError/TypeError), malformed input yields a ConfigError naming
 * the exact key path.
 */
import { ConfigError, type Problem } from "../core/errors.js";
import type { KeyPath, SourceDocument } from "../core/source.js";

export type ConfigValues = Record<string, unknown>;

/** One node of the canonical graph form, with where it came from in the source. */
export interface GraphEntry {
  kind: string;
  values: ConfigValues;
  /** Path of the mapping that holds this entry's values in the source document. */
  origin: KeyPath;
  /** Keys whose value blocksmith/DIB derived rather than read (`name`, `base`). */
  derived: Set<string>;
  /** For partitioning entries: path of each partition's mapping. */
  partitionOrigins?: KeyPath[];
}

function isRecord(value: unknown): value is ConfigValues {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Python's `str()` of a YAML value, for derived names such as `lvm_['root']` (DIB formats with %s). */
export function pythonStr(value: unknown): string {
  if (typeof value === "string") return value;
  return pythonRepr(value);
}

function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string")
    return value.includes("'") && !value.includes('"') ? `"${value}"` : `'${value}'`;
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : pythonFloat(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  if (isRecord(value))
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
      .join(", ")}}`;
  return String(value);
}

function pythonFloat(value: number): string {
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

export class TreeToGraph {
  private readonly problems: Problem[] = [];
  private readonly output: GraphEntry[] = [];

  constructor(
    private readonly source: SourceDocument,
    private readonly isPlugin: (key: string) => boolean,
    private readonly pluginHint: (key: string) => string,
  ) {}

  convert(): GraphEntry[] {
    const { data } = this.source;
    if (!Array.isArray(data)) {
      this.problem([], "the config must be a list of entries (`- local_loop: …`, `- partitioning: …`)", {
        hint: isRecord(data) ? "put a `- ` in front of each top-level entry" : undefined,
      });
      throw new ConfigError(this.problems);
    }
    data.forEach((entry, index) => {
      if (!isRecord(entry)) {
        this.problem(
          [index],
          "a config entry must be a mapping with a single plugin key, e.g. `- mkfs: {…}`",
        );
        return;
      }
      const keys = Object.keys(entry);
      if (keys.length !== 1) {
        this.problem([index], `a top-level entry must have exactly one key, found ${keys.length}`, {
          hint:
            keys.length > 1
              ? `split it into one list item per plugin (${keys.join(", ")}), or indent the nested ones under their parent`
              : "add a plugin key such as `local_loop:`",
        });
        return;
      }
      const key = keys[0]!;
      if (!this.isPlugin(key)) {
        this.problem([index, key], `"${key}" is not a known plugin`, {
          key: true,
          hint: this.pluginHint(key),
        });
        return;
      }
      this.recurse(key, entry[key], [index, key], undefined);
    });
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return this.output;
  }

  private recurse(key: string, values: unknown, path: KeyPath, parentBase: unknown): void {
    if (!isRecord(values)) {
      this.problem(path, `"${key}" must be a mapping of settings`, {
        hint: values === null ? `give it at least a name, e.g. \`${key}: { name: … }\`` : undefined,
      });
      return;
    }
    const self: ConfigValues = {};
    const derived = new Set<string>();
    if (!("base" in values)) {
      if (parentBase !== undefined) {
        self.base = parentBase;
        derived.add("base");
      }
    } else {
      self.base = values.base;
    }
    if (!("name" in values)) {
      if (!("base" in self)) {
        this.problem(path, `"${key}" has neither a name nor a base to derive one from`, {
          hint: "add `name: …` (DIB would crash here with a KeyError)",
        });
        return;
      }
      self.name = `${key}_${pythonStr(self.base)}`;
      derived.add("name");
    } else {
      self.name = values.name;
    }

    const entry: GraphEntry = { kind: key, values: self, origin: path, derived };
    for (const [childKey, childValue] of Object.entries(values)) {
      if (childKey === "partitions") {
        this.convertPartitions(self, entry, childValue, [...path, childKey]);
      } else if (this.isPlugin(childKey)) {
        this.recurse(childKey, childValue, [...path, childKey], self.name);
      } else {
        self[childKey] = childValue;
      }
    }
    this.output.push(entry);
  }

  private convertPartitions(self: ConfigValues, entry: GraphEntry, partitions: unknown, path: KeyPath): void {
    if (!Array.isArray(partitions)) {
      this.problem(path, "`partitions` must be a list of partitions", { hint: "write each as `- name: …`" });
      return;
    }
    if (!("base" in self)) {
      this.problem(entry.origin, `"${entry.kind}" with partitions needs a base (the disk to partition)`, {
        hint: "add `base: image0` (the name of a local_loop or device entry)",
      });
      return;
    }
    const converted: ConfigValues[] = [];
    entry.partitionOrigins = [];
    partitions.forEach((partition, index) => {
      const partitionPath = [...path, index];
      if (!isRecord(partition)) {
        this.problem(partitionPath, "a partition must be a mapping (`- name: root`, `size: …`)");
        return;
      }
      const converted1: ConfigValues = {};
      for (const [partKey, partValue] of Object.entries(partition)) {
        if (this.isPlugin(partKey)) {
          if (!("name" in partition)) {
            this.problem(partitionPath, `a partition with a nested "${partKey}" needs a name`, {
              hint: "add `name: …` to the partition",
            });
            continue;
          }
          this.recurse(partKey, partValue, [...partitionPath, partKey], partition.name);
        } else {
          converted1[partKey] = partValue;
        }
      }
      converted1.base = self.base;
      converted.push(converted1);
      entry.partitionOrigins!.push(partitionPath);
    });
    self.partitions = converted;
  }

  private problem(path: KeyPath, message: string, options: { hint?: string; key?: boolean } = {}): void {
    this.problems.push({
      message,
      ...(options.hint ? { hint: options.hint } : {}),
      at: this.source.locate(path, { key: options.key ?? false }),
    });
  }
}

/** The graph as DIB prints it: a list of single-key objects. */
export function graphToJson(entries: readonly GraphEntry[]): Record<string, ConfigValues>[] {
  return entries.map((entry) => ({ [entry.kind]: entry.values }));
}
