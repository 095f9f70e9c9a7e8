/**
 * `blocksmith graph` against DIB's own config_tree_to_graph/create_graph, on every corpus config.
 *
 * - `graph` (validated) must accept exactly what DIB accepts before touching a disk (config_tree_to_graph
 *   + create_graph: plugin checks, edges, duplicate names/labels/mount points, cycles) and print the same
 *   list of single-key objects (deep equality: same entries in the same order, same keys and values);
 *   when both refuse, blocksmith must exit non-zero, without crashing, with an error naming the file.
 * - With BLOCKSMITH_DIFF_THOROUGH=1, also `graph --no-validate` against config_tree_to_graph alone, on the
 *   configs whose graph DIB's create_graph then refuses (elsewhere `graph` already shows the conversion).
 *   Off by default: every blocksmith run is a fresh Node process costing ~0.4 s of CPU.
 *
 * Differences on purpose are listed in deliberate-differences.ts and asserted to really occur.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { deliberateDifferences, differenceFor, type DifferenceAspect } from "./deliberate-differences.js";
import {
  askOracle,
  blocksmith,
  cliBuilt,
  CONCURRENCY,
  excerpt,
  isOracleError,
  loadCorpus,
  mapLimit,
  prerequisiteVerdict,
  type CorpusConfig,
  type OracleAnswer,
  type RunResult,
} from "./support.js";

const corpus = loadCorpus();
const verdict = prerequisiteVerdict();
const thorough = process.env.BLOCKSMITH_DIFF_THOROUGH === "1";
const HANDLED: readonly DifferenceAspect[] = ["tree-outcome", "graph-outcome", "graph-output"];
const usedRows = new Set<string>();

interface Observed {
  oracle: OracleAnswer;
  graph: RunResult;
  /** Only with BLOCKSMITH_DIFF_THOROUGH=1, where DIB's create_graph refuses (see the file comment). */
  noValidate: RunResult | undefined;
}
const observed = new Map<string, Observed>();

function expectDifference(config: string, aspect: DifferenceAspect): boolean {
  const row = differenceFor(config, aspect);
  if (row) usedRows.add(`${row.config}|${row.aspect}`);
  return row !== undefined;
}

/** A refusal: non-zero, not an internal error (a crash is not a refusal), and the file is named. */
function assertRefused(result: RunResult, config: CorpusConfig, what: string): void {
  assert.notEqual(
    result.status,
    0,
    `${what}: blocksmith accepted ${config.path}; stdout: ${excerpt(result.stdout)}`,
  );
  assert.notEqual(
    result.status,
    70,
    `${what}: blocksmith crashed (internal error): ${excerpt(result.stderr)}`,
  );
  assert.ok(
    result.stderr.includes(config.path),
    `${what}: blocksmith's error does not mention ${config.path}: ${excerpt(result.stderr)}`,
  );
}

function parseGraph(result: RunResult, what: string): unknown {
  try {
    return JSON.parse(result.stdout) as unknown;
  } catch (error) {
    assert.fail(`${what}: stdout is not JSON (${(error as Error).message}): ${excerpt(result.stdout)}`);
  }
}

describe(
  "differential: blocksmith graph vs DIB config_tree_to_graph/create_graph",
  { skip: verdict.skip },
  () => {
    before(async () => {
      if (verdict.fail !== undefined) return;
      assert.ok(cliBuilt(), "dist/src/cli/main.js is missing: run `npx tsc -p tsconfig.json` first");
      const answers = await askOracle(corpus);
      const oracleFor = (config: CorpusConfig): OracleAnswer => {
        const oracle = answers.get(config.path);
        if (!oracle) throw new Error(`the oracle gave no answer for ${config.path}`);
        return oracle;
      };
      const runs = await mapLimit(corpus, CONCURRENCY, async (config) => ({
        graph: await blocksmith(["graph", config.path]),
        noValidate:
          thorough && oracleFor(config).check.exit !== 0
            ? await blocksmith(["graph", "--no-validate", config.path])
            : undefined,
      }));
      corpus.forEach((config, index) =>
        observed.set(config.path, { oracle: oracleFor(config), ...runs[index]! }),
      );
    });

    it("has the prerequisites (diskimage-builder for /usr/bin/python3, sfdisk, sgdisk)", () => {
      assert.equal(verdict.fail, undefined, verdict.fail);
    });
    // In CI a missing prerequisite is the one failure to report, not a hundred follow-ups.
    if (verdict.fail !== undefined) return;

    it("has a corpus of at least 30 good configs and a bad set", () => {
      assert.ok(corpus.filter((c) => c.set === "good").length >= 30);
      assert.ok(corpus.filter((c) => c.set === "bad").length >= 5);
    });

    for (const config of corpus) {
      describe(config.path, () => {
        if (thorough)
          it("graph --no-validate ⇔ config_tree_to_graph", (t) => {
            const seen = observed.get(config.path);
            assert.ok(seen, "no observation (see the before hook)");
            const dib = seen.oracle.graph;
            const dibOk = dib.exit === 0;
            const ours = seen.noValidate;
            if (!ours) return t.skip("create_graph accepts it: the validated graph shows the conversion");
            const oursOk = ours.status === 0;
            const dibSays = dibOk
              ? "accepts"
              : `refuses: ${isOracleError(dib.result) ? dib.result.error : "?"}`;
            if (expectDifference(config.path, "tree-outcome")) {
              assert.notEqual(oursOk, dibOk, "listed as a tree-outcome difference, but both agree");
              return;
            }
            assert.equal(
              oursOk,
              dibOk,
              `DIB ${dibSays}; blocksmith exit ${ours.status}: ${excerpt(ours.stderr)}`,
            );
            if (!dibOk) {
              assertRefused(ours, config, "graph --no-validate");
              return;
            }
            const graph = parseGraph(ours, "graph --no-validate");
            if (expectDifference(config.path, "graph-output")) {
              assert.notDeepEqual(
                graph,
                dib.result,
                "listed as a graph-output difference, but the graphs are equal",
              );
              return;
            }
            assert.deepEqual(graph, dib.result);
          });

        it("graph ⇔ create_graph (what DIB refuses before touching a disk)", () => {
          const seen = observed.get(config.path);
          assert.ok(seen, "no observation (see the before hook)");
          const dib = seen.oracle.check;
          const dibOk = dib.exit === 0;
          const ours = seen.graph;
          const oursOk = ours.status === 0;
          const dibSays = dibOk
            ? "accepts"
            : `refuses at ${isOracleError(dib.result) ? `${dib.result.stage}: ${dib.result.error}` : "?"}`;
          if (expectDifference(config.path, "graph-outcome")) {
            assert.notEqual(oursOk, dibOk, "listed as a graph-outcome difference, but both agree");
            if (!oursOk) assertRefused(ours, config, "graph");
            return;
          }
          if (dibOk && !oursOk && config.dibStage === "create") {
            // DIB refuses it too, only later (an exception while partitioning or mounting, per the
            // corpus header, checked in dib-layout.test.ts); blocksmith validates everything up front.
            assertRefused(ours, config, "graph");
            return;
          }
          assert.equal(
            oursOk,
            dibOk,
            `DIB ${dibSays}; blocksmith exit ${ours.status}: ${excerpt(ours.stderr)}`,
          );
          if (!dibOk) {
            assertRefused(ours, config, "graph");
            return;
          }
          const graph = parseGraph(ours, "graph");
          if (expectDifference(config.path, "graph-output")) {
            assert.notDeepEqual(
              graph,
              seen.oracle.graph.result,
              "listed as a graph-output difference, but equal",
            );
            return;
          }
          assert.deepEqual(graph, seen.oracle.graph.result);
        });
      });
    }

    it("every deliberate difference of these aspects names a corpus config and is exercised", () => {
      const paths = new Set(corpus.map((c) => c.path));
      for (const row of deliberateDifferences.filter((r) => HANDLED.includes(r.aspect))) {
        assert.ok(paths.has(row.config), `deliberate-differences.ts: ${row.config} is not in the corpus`);
        assert.ok(
          usedRows.has(`${row.config}|${row.aspect}`),
          `deliberate difference never exercised: ${row.config} (${row.aspect})`,
        );
      }
    });
  },
);
