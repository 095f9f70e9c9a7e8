/**
 * Offline-build benchmark (issue 5): "GPT 4 GiB, ESP 256 MiB vfat with a few files, ext4 root from a
 * deterministic ~600 MiB tree of 20,000 files", built by blocksmith, by the floor (the mkfs tools alone),
 * by systemd-repart and by genimage, round-robin so that drift in the machine hits everyone alike. A
 * fifth row, floor+writeback, runs the floor's tools while syncing their output as blocksmith does: the
 * issue's goal is against the plain floor; this row shows what is left once the disk work overlaps too.
 * Every output is fsync'd inside its timing and validated after it; it prints medians of per-round
 * ratios, which cancel the noise two neighbouring runs share. Nothing is asserted.
 *   npm run bench                    (planner + this)
 *   node dist/bench/offline-build.js [--json]     BENCH_ROUNDS=5 by default
 */
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CONTENDERS, clearDir, type Contender, type Workload } from "./contenders.js";
import { DEFAULT_TREE, ESP_DIR, generateTree } from "./generate-tree.js";
import { installMissing, median, syncFile } from "./tools.js";

const MiB = 1024 * 1024;
const TMPFS_MAGIC = 0x01021994;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const VALIDATION_TOOLS = ["sfdisk", "fsck.vfat", "mdir", "e2fsck", "dumpe2fs", "dd", "cp", "time"];
const GOALS = "goal ≤ 1.05× floor, ahead of both peers, peak RSS < 100 MiB";

interface Sample {
  round: number;
  seconds: number;
  peakRssKiB: number;
  nodeRssKiB?: number;
}

interface Outcome {
  contender: Contender;
  skipped?: string;
  samples: Sample[];
  failures: string[];
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  // With --json, stdout holds only the result object; progress and notes go to stderr.
  const note = json ? console.error : console.log;
  const stillMissing = await installMissing(
    [...new Set([...VALIDATION_TOOLS, ...CONTENDERS.flatMap((contender) => contender.tools)])],
    note,
  );
  const validationMissing = stillMissing.filter((tool) => VALIDATION_TOOLS.includes(tool));
  if (validationMissing.length > 0) {
    note(`offline-build benchmark skipped: cannot validate without ${validationMissing.join(", ")}`);
    return;
  }

  const work = mkdtempSync(join(tmpdir(), "blocksmith-offline-bench-"));
  const trees = treesDir(work);
  try {
    const treeDir = join(trees, "tree");
    const started = performance.now();
    const tree = generateTree(treeDir, DEFAULT_TREE);
    // The ESP is its own file system: tools that fill one fs from one directory get a second copy of
    // the tree without boot/efi's contents (its empty mount point stays, as in blocksmith's root fs).
    const rootSubtreeDir = join(trees, "rootfs");
    generateTree(rootSubtreeDir, DEFAULT_TREE, false);
    note(
      `tree: ${tree.rootNames} files (${tree.rootRegularInodes} inodes, ${tree.hardLinks} hard links), ` +
        `${tree.symlinks} symlinks, ${tree.directories} dirs, ${(tree.rootDataBytes / MiB).toFixed(0)} MiB; ` +
        `ESP ${tree.espFiles} files; in ${trees}; seed ${DEFAULT_TREE.seed}, manifest ${tree.manifestDigest.slice(0, 12)}; ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s to generate both trees`,
    );

    const diskSizeBytes = 4096 * MiB;
    const espSizeBytes = 256 * MiB;
    const workload: Workload = {
      treeDir,
      rootSubtreeDir,
      espDir: join(treeDir, ESP_DIR),
      diskSizeBytes,
      espOffsetBytes: MiB,
      espSizeBytes,
      rootSizeBytes: diskSizeBytes - espSizeBytes - 2 * MiB,
      seedUuid: "6f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f",
      sourceDateEpoch: "1700000000",
      expected: {
        espSizeBytes,
        rootMinBytes: diskSizeBytes - espSizeBytes - 2 * MiB,
        espFiles: tree.espFiles,
        rootRegularInodes: tree.rootRegularInodes,
        rootHardLinks: tree.hardLinks,
        rootSymlinks: tree.symlinks,
      },
      scratchDir: join(work, "scratch"),
    };
    mkdirSync(workload.scratchDir);
    const configDir = join(work, "config");
    mkdirSync(configDir);

    const outcomes: Outcome[] = CONTENDERS.map((contender) => {
      const missing = contender.tools.filter((tool) => stillMissing.includes(tool));
      const skipped = missing.length > 0 ? `missing ${missing.join(", ")}` : contender.unavailable();
      if (skipped !== undefined) note(`${contender.name}: skipped, ${skipped}`);
      else contender.prepare(workload, configDir);
      return { contender, ...(skipped !== undefined ? { skipped } : {}), samples: [], failures: [] };
    });
    const active = outcomes.filter((outcome) => outcome.skipped === undefined);

    let validationSeconds = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      // Rotate the start so that no contender always runs right after the same neighbour.
      const order = active.map((_, index) => active[(index + round) % active.length]!);
      for (const outcome of order) {
        const outDir = join(work, "out", outcome.contender.name);
        clearDir(outDir);
        try {
          const start = performance.now();
          const result = await outcome.contender.build(workload, outDir);
          result.outputs.forEach(syncFile);
          const seconds = (performance.now() - start) / 1000;
          const validationStart = performance.now();
          const failure = await outcome.contender
            .validate(result.outputs, workload)
            .catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
          validationSeconds += (performance.now() - validationStart) / 1000;
          if (failure !== undefined) throw new Error(`invalid output: ${failure}`);
          outcome.samples.push({
            round,
            seconds,
            peakRssKiB: result.peakRssKiB,
            ...(result.nodeRssKiB !== undefined ? { nodeRssKiB: result.nodeRssKiB } : {}),
          });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          outcome.failures.push(`round ${round + 1}: ${message}`);
        } finally {
          rmSync(outDir, { recursive: true, force: true });
        }
      }
      note(`round ${round + 1}/${ROUNDS} done`);
    }
    report(outcomes, json);
    const totalSeconds = (performance.now() - started) / 1000;
    if (!json)
      console.log(
        `(${totalSeconds.toFixed(0)} s in all, ${validationSeconds.toFixed(0)} s of it validating)`,
      );
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(trees, { recursive: true, force: true });
  }
}

/**
 * The source trees go to tmpfs when it has room: deleting their 40,000 files took 45 s on a disk
 * mounted with `discard`, and the sources are read from memory either way (page cache), so where they
 * live does not change what is timed. Outputs stay on the disk, where fsync means something.
 */
function treesDir(work: string): string {
  try {
    const shm = statfsSync("/dev/shm");
    if (shm.type === TMPFS_MAGIC && shm.bavail * shm.bsize >= 4 * 1024 * MiB) {
      return mkdtempSync(join("/dev/shm", "blocksmith-bench-trees-"));
    }
  } catch {
    // no /dev/shm: the work directory will do
  }
  return join(work, "trees");
}

/** Median over the rounds in which both succeeded of this round's a/b time. */
function medianRatio(a: Outcome | undefined, b: Outcome | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  const ratios = a.samples.flatMap((sample) => {
    const other = b.samples.find((candidate) => candidate.round === sample.round);
    return other ? [sample.seconds / other.seconds] : [];
  });
  return ratios.length > 0 ? median(ratios) : undefined;
}

function report(outcomes: Outcome[], json: boolean): void {
  const byName = (name: string) => outcomes.find((outcome) => outcome.contender.name === name);
  const floor = byName("floor");
  const blocksmith = byName("blocksmith");
  const rows = outcomes.map((outcome) => {
    const { samples } = outcome;
    const nodeRss = samples.flatMap((sample) => (sample.nodeRssKiB !== undefined ? [sample.nodeRssKiB] : []));
    return {
      name: outcome.contender.name,
      skipped: outcome.skipped,
      rounds: samples.length,
      failures: outcome.failures,
      medianSeconds: samples.length > 0 ? median(samples.map((sample) => sample.seconds)) : undefined,
      ratioToFloor: outcome === floor ? undefined : medianRatio(outcome, floor),
      peakRssMiB:
        samples.length > 0 ? Math.max(...samples.map((sample) => sample.peakRssKiB)) / 1024 : undefined,
      nodePeakRssMiB: nodeRss.length > 0 ? Math.max(...nodeRss) / 1024 : undefined,
    };
  });
  const versus = ["systemd-repart", "genimage", "floor+writeback"].map((peer) => ({
    peer,
    ratio: medianRatio(blocksmith, byName(peer)),
  }));
  if (json) {
    console.log(JSON.stringify({ rounds: ROUNDS, goals: GOALS, contenders: rows, blocksmithVersus: versus }));
    return;
  }
  const fixed = (value: number | undefined, digits: number, suffix = "") =>
    value === undefined ? "–" : `${value.toFixed(digits)}${suffix}`;
  console.log(
    `\noffline build, ${ROUNDS} rounds (median wall time incl. fsync; ratios: median of per-round)`,
  );
  console.log("contender        median   ×floor   peak RSS (largest process)");
  for (const row of rows) {
    const status = row.skipped
      ? `skipped: ${row.skipped}`
      : row.rounds === 0
        ? "failed every round"
        : `${fixed(row.medianSeconds, 2, " s").padStart(8)}  ${fixed(row.ratioToFloor, 3, "×").padStart(7)}  ` +
          `${fixed(row.peakRssMiB, 1, " MiB")}` +
          (row.nodePeakRssMiB !== undefined ? ` (node ${fixed(row.nodePeakRssMiB, 1, " MiB")})` : "");
    console.log(`${row.name.padEnd(15)}  ${status}`);
    for (const failure of row.failures) console.log(`    ${failure.split("\n").join("\n    ")}`);
  }
  for (const { peer, ratio } of versus) {
    console.log(`blocksmith / ${peer}: ${fixed(ratio, 3, "×")} (< 1 is ahead)`);
  }
  console.log(GOALS);
}

await main();
