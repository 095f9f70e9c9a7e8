/**
 * Reading config text (YAML or JSON) into plain data while keeping where every value came from, so
 * that errors can name the file, line and key path.
 *
 * DIB reads configs with PyYAML's `safe_load`, which implements YAML 1.1: `type: 0700` is an octal
 * integer and `yes` a boolean there. We parse with the same YAML 1.1 rules so the graph we derive has
 * the same values as DIB's. JSON is valid YAML, so one parser serves both.
 */
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Tags,
} from "yaml";
import { ConfigError, type Problem, type SourceRef } from "./errors.js";

export type KeyPath = (string | number)[];

export interface SourceDocument {
  file: string;
  /** The parsed data (plain JS values). */
  data: unknown;
  /** Position of the value (or, with `key: true`, of the key) at a path; the nearest ancestor if absent. */
  locate(path: KeyPath, options?: { key?: boolean }): SourceRef;
}

// PyYAML's booleans are a subset of YAML 1.1's: it does not read y/Y/n/N as booleans.
const PYYAML_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PYYAML_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const BOOL_TAG = "tag:yaml.org,2002:bool";
const TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp";

function pyyamlTags(tags: Tags): Tags {
  return (
    tags
      // A date would not survive DIB's json.dump either; keeping it as text is the useful reading.
      .filter((tag) => typeof tag !== "object" || !("tag" in tag) || tag.tag !== TIMESTAMP_TAG)
      .map((tag) => {
        if (
          typeof tag !== "object" ||
          !("tag" in tag) ||
          tag.tag !== BOOL_TAG ||
          !("test" in tag) ||
          !tag.test
        )
          return tag;
        return { ...tag, test: tag.test.test("yes") ? PYYAML_TRUE : PYYAML_FALSE };
      })
  );
}

export function parseSource(text: string, file: string): SourceDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    version: "1.1",
    customTags: pyyamlTags,
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
  });
  if (doc.errors.length > 0) {
    const problems: Problem[] = doc.errors.map((error) => {
      const offset = error.pos[0];
      const { line, col } = lineCounter.linePos(offset);
      return {
        message: `not valid YAML/JSON: ${error.message.split("\n")[0]}`,
        hint:
          error.code === "DUPLICATE_KEY"
            ? "each key may appear once per mapping (PyYAML would silently keep the last one)"
            : "check indentation, quoting and colons around this position",
        at: { file, path: [], line, column: col },
      };
    });
    throw new ConfigError(problems);
  }
  return {
    file,
    data: doc.toJS({ maxAliasCount: 1000 }),
    locate: (path, options) => locateInDocument(doc, lineCounter, file, path, options?.key ?? false),
  };
}

function locateInDocument(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  path: KeyPath,
  wantKey: boolean,
): SourceRef {
  let node: unknown = doc.contents;
  let position: number | undefined = rangeStart(node);
  for (let depth = 0; depth < path.length; depth += 1) {
    const segment = path[depth]!;
    const isLast = depth === path.length - 1;
    if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
    } else if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && item.key.value === segment,
      );
      if (!pair) break;
      if (isLast && wantKey) {
        node = pair.key;
      } else {
        node = pair.value;
        // A key with no value (`size:`) has no value node; point at the key instead.
        if (node === null || node === undefined) node = pair.key;
      }
    } else {
      break;
    }
    const start = rangeStart(node);
    if (start === undefined) break;
    position = start;
  }
  if (position === undefined) return { file, path };
  const { line, col } = lineCounter.linePos(position);
  return { file, path, line, column: col };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}
