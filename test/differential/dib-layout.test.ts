/**
 * `blocksmith plan --json` against what DIB really writes. The oracle runs DIB's own create path on
 * sparse image files (DIB's MBR class for MBR, DIB's sgdisk command for GPT; no root, no kpartx) and
 * reads each table back with `sfdisk -J`. For every corpus config:
 *
 * - plan must succeed exactly when DIB gets through partitioning (and its table reads back);
 * - every partition's kernel number, start sector, size in sectors, type, role and (MBR) boot flag must
 *   be what sfdisk reads from DIB's image, the MBR extended container included;
 * - mounts: the same mount points on the same nodes, every parent before its children, and DIB's order
 *   unless a deliberate difference explains it;
 * - fstab: the lines DIB's cmd_writefstab writes.
 *
 * Differences on purpose are listed in deliberate-differences.ts and asserted to really occur.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  deliberateDifferences,
  differenceFor,
  ruleFor,
  type DifferenceAspect,
} from "./deliberate-differences.js";
import {
  askOracle,
  blocksmith,
  cliBuilt,
  componentOrder,
  CONCURRENCY,
  excerpt,
  isOracleError,
  loadCorpus,
  makeWorkDir,
  mapLimit,
  nestingViolation,
  prerequisiteVerdict,
  REPO_ROOT,
  type CorpusConfig,
  type OracleAnswer,
  type OracleLayout,
  type OraclePartitioning,
  type RunResult,
} from "./support.js";

/** The part of `blocksmith plan --json` these tests read. */
interface PlanJson {
  disks: {
    name: string;
    sizeBytes: number;
    sectorSize: number;
    label: "mbr" | "gpt" | null;
    partitions: {
      name: string;
      number: number;
      role: "primary" | "logical" | "extended" | "gpt";
      startSector: number;
      sizeSectors: number;
      startBytes: number;
      sizeBytes: number;
      type: string;
      flags: string[];
    }[];
  }[];
  mounts: { name: string; base: string; mountPoint: string }[];
  filesystems: { name: string; label: string; type: string }[];
  steps: { node: string; action: string; argv: string[] }[];
  fstab: {
    spec: string;
    mountPoint: string;
    fsType: string;
    options: string;
    dumpFreq: number | string;
    fsckPassNo: number | string;
  }[];
}

const corpus = loadCorpus();
let getvalDir: { dir: string; remove: () => void } | undefined;
/** A work directory for the getval comparisons' build dirs, made on first use and removed after. */
function getvalWork(): string {
  getvalDir ??= makeWorkDir("blocksmith-diff-getval-");
  return getvalDir.dir;
}
after(() => getvalDir?.remove());
const verdict = prerequisiteVerdict();
const HANDLED: readonly DifferenceAspect[] = [
  "plan-outcome",
  "layout",
  "mount-order",
  "fstab",
  "mount-order-rule",
  "fstab-without-mounts",
];
const usedRows = new Set<string>();

interface Observed {
  oracle: OracleAnswer;
  /** Not run where DIB refuses before partitioning (dib-graph.test.ts covers those). */
  plan: RunResult | undefined;
}
const observed = new Map<string, Observed>();

function expectDifference(config: string, aspect: DifferenceAspect): boolean {
  const row = differenceFor(config, aspect);
  if (row) usedRows.add(`${row.config}|${row.aspect}`);
  return row !== undefined;
}

function useRule(aspect: DifferenceAspect): boolean {
  const row = ruleFor(aspect);
  if (row) usedRows.add(`${row.config}|${row.aspect}`);
  return row !== undefined;
}

function seen(config: CorpusConfig): Observed {
  const result = observed.get(config.path);
  assert.ok(result, "no observation (see the before hook)");
  return result;
}

/**
 * Whether both tools are expected to lay the config out: DIB (by the config's header) and blocksmith
 * (unless a deliberate difference says it refuses). Where not, the comparisons below have nothing to
 * compare; the outcome itself is checked by "plan ⇔ DIB's partitioning".
 */
function bothLayOut(config: CorpusConfig): boolean {
  const layout = seen(config).oracle.layout;
  const dibLaysOut = layout !== undefined && layout.exit === 0 && !isOracleError(layout.result);
  return dibLaysOut && seen(config).plan?.status === 0;
}

function dibLayout(config: CorpusConfig): OracleLayout | undefined {
  const layout = seen(config).oracle.layout;
  return layout && layout.exit === 0 && !isOracleError(layout.result) ? layout.result : undefined;
}

function parsePlan(result: RunResult | undefined): PlanJson | undefined {
  if (result === undefined || result.status !== 0) return undefined;
  try {
    return JSON.parse(result.stdout) as PlanJson;
  } catch (error) {
    assert.fail(`plan --json printed no JSON (${(error as Error).message}): ${excerpt(result.stdout)}`);
  }
}

/** MBR types as "0x83"; GPT types as upper-case GUIDs (sfdisk prints "83"/"f" and GUIDs). */
function normaliseType(type: string, label: "mbr" | "gpt"): string {
  if (label === "gpt") return type.toUpperCase();
  const value = Number.parseInt(type.replace(/^0x/i, ""), 16);
  return Number.isNaN(value) ? type : `0x${value.toString(16).padStart(2, "0")}`;
}

interface ComparablePartition {
  number: number;
  startSector: number;
  sizeSectors: number;
  type: string;
  role: string;
  /** The DIB node name; null for the MBR extended container. */
  name: string | null;
  boot?: boolean;
}

function expectedPartitions(part: OraclePartitioning): ComparablePartition[] {
  const label = part.dib_label;
  return (part.partitions ?? [])
    .map((p) => {
      const role =
        label === "gpt" ? "gpt" : p.dib_node === null ? "extended" : p.number <= 4 ? "primary" : "logical";
      const entry: ComparablePartition = {
        number: p.number,
        startSector: p.start,
        sizeSectors: p.size,
        type: normaliseType(p.type, label),
        role,
        name: p.dib_node,
      };
      // DIB's GPT code ignores the boot flag, so it is only comparable on MBR.
      if (label === "mbr") entry.boot = p.bootable;
      return entry;
    })
    .sort((a, b) => a.number - b.number);
}

function actualPartitions(disk: PlanJson["disks"][number], label: "mbr" | "gpt"): ComparablePartition[] {
  return disk.partitions
    .map((p) => {
      const entry: ComparablePartition = {
        number: p.number,
        startSector: p.startSector,
        sizeSectors: p.sizeSectors,
        type: normaliseType(p.type, label),
        role: p.role,
        name: p.role === "extended" ? null : p.name,
      };
      if (label === "mbr") entry.boot = p.flags.includes("boot");
      return entry;
    })
    .sort((a, b) => a.number - b.number);
}

function fstabLine(entry: PlanJson["fstab"][number]): string {
  return [entry.spec, entry.mountPoint, entry.fsType, entry.options, entry.dumpFreq, entry.fsckPassNo].join(
    " ",
  );
}

/** DIB always has a label, so it never writes UUID=; blocksmith's UUIDs may be random. */
function maskUuid(line: string): string {
  return line.replace(/^UUID=\S+/, "UUID=<uuid>");
}

function sorted(lines: readonly string[]): string[] {
  return [...lines].sort();
}

describe("differential: blocksmith plan vs the tables DIB writes", { skip: verdict.skip }, () => {
  const work =
    verdict.skip === false && verdict.fail === undefined ? makeWorkDir("blocksmith-diff-layout-") : undefined;
  after(() => work?.remove());

  before(async () => {
    if (!work) return;
    assert.ok(cliBuilt(), "dist/src/cli/main.js is missing: run `npx tsc -p tsconfig.json` first");
    // A quick pass (no disks) says which configs DIB refuses before any disk work: those are
    // dib-graph.test.ts's business and are not planned here, since each blocksmith run is a fresh Node
    // process (~0.4 s of CPU). The DIB layout run (one process, mostly waiting on sgdisk's sleep) then
    // overlaps with the blocksmith runs.
    const quick = await askOracle(corpus);
    const toPlan = (config: CorpusConfig): boolean => quick.get(config.path)?.check.exit === 0;
    const [answers, plans] = await Promise.all([
      askOracle(corpus, { workDir: work.dir, processes: 1 }),
      mapLimit(corpus, CONCURRENCY, (config) =>
        toPlan(config)
          ? blocksmith(["plan", config.path, "--size", String(config.imageSizeBytes), "--json"])
          : Promise.resolve(undefined),
      ),
    ]);
    const oracleFor = (config: CorpusConfig): OracleAnswer => {
      const oracle = answers.get(config.path);
      if (!oracle) throw new Error(`the oracle gave no answer for ${config.path}`);
      return oracle;
    };
    corpus.forEach((config, index) =>
      observed.set(config.path, { oracle: oracleFor(config), plan: plans[index] }),
    );
  });

  it("has the prerequisites (diskimage-builder for /usr/bin/python3, sfdisk, sgdisk)", () => {
    assert.equal(verdict.fail, undefined, verdict.fail);
  });
  if (verdict.fail !== undefined) return;

  for (const config of corpus) {
    describe(config.path, () => {
      if (config.dibStage !== undefined || config.set === "good") {
        it(`DIB behaves as the corpus says (${config.dibStage ?? "ok"})`, () => {
          const layout = seen(config).oracle.layout;
          assert.ok(layout, "no layout answer");
          const stage = config.dibStage ?? "ok";
          if (stage === "ok") {
            assert.equal(layout.exit, 0, `DIB refused: ${JSON.stringify(layout.result).slice(0, 400)}`);
            return;
          }
          assert.ok(
            isOracleError(layout.result),
            `DIB accepted a config whose header says it stops at "${stage}"`,
          );
          assert.equal(layout.result.stage, stage, layout.result.error);
          if (config.dibError !== undefined) {
            assert.ok(layout.result.error.includes(config.dibError), `DIB's error: ${layout.result.error}`);
          }
        });
      }
      // The header says DIB refuses it before any disk work: dib-graph.test.ts compares that.
      if (config.dibStage === "tree" || config.dibStage === "graph") return;

      it("plan ⇔ DIB's partitioning", () => {
        const { oracle, plan } = seen(config);
        const layout = oracle.layout;
        if (!plan) {
          // blocksmith was only spared the plan because DIB refuses the config before partitioning;
          // dib-graph.test.ts compares that refusal.
          assert.ok(
            layout && isOracleError(layout.result),
            "DIB accepted a config blocksmith was not asked to plan",
          );
          return;
        }
        assert.ok(layout, "no layout answer");
        const dibOk = layout.exit === 0;
        const oursOk = plan.status === 0;
        const dibSays = dibOk
          ? "lays it out"
          : `stops at ${isOracleError(layout.result) ? `${layout.result.stage}: ${layout.result.error}` : "?"}`;
        // Only configs DIB's create_graph accepts get here, so a graph-outcome difference means
        // blocksmith refused the config while validating it: plan refuses it too.
        const refusedByGraph = expectDifference(config.path, "graph-outcome");
        const flipped = !refusedByGraph && expectDifference(config.path, "plan-outcome");
        const expected = refusedByGraph ? false : flipped ? !dibOk : dibOk;
        assert.equal(
          oursOk,
          expected,
          `${refusedByGraph || flipped ? "listed as a deliberate difference; " : ""}DIB ${dibSays}; ` +
            `blocksmith plan exit ${plan.status}: ${excerpt(plan.stderr)}`,
        );
        if (!oursOk) {
          assert.notEqual(plan.status, 70, `blocksmith crashed (internal error): ${excerpt(plan.stderr)}`);
          assert.ok(
            plan.stderr.includes(config.path),
            `the error does not mention ${config.path}: ${excerpt(plan.stderr)}`,
          );
        }
      });

      it("partitions: number, start, size, type, role, boot flag as sfdisk reads DIB's image", () => {
        const dib = dibLayout(config);
        const ours = parsePlan(seen(config).plan);
        if (!bothLayOut(config)) return;
        assert.ok(dib, "DIB did not lay out a config it is expected to");
        assert.ok(ours, "blocksmith did not plan a config it is expected to");
        const tableDisks = new Set<string>();
        for (const [name, part] of Object.entries(dib.partitionings)) {
          tableDisks.add(part.base);
          const disk: PlanJson["disks"][number] | undefined = ours.disks.find((d) => d.name === part.base);
          assert.ok(disk, `partitioning ${name}: blocksmith has no disk ${part.base}`);
          assert.equal(disk.label, part.dib_label, `disk ${disk.name}: label`);
          assert.equal(disk.sectorSize, part.sectorsize ?? 512, `disk ${disk.name}: sector size`);
          assert.equal(disk.sizeBytes, dib.disks[part.base]?.sizeBytes, `disk ${disk.name}: size in bytes`);
          for (const p of disk.partitions) {
            assert.equal(
              p.startBytes,
              p.startSector * disk.sectorSize,
              `${p.name}: startBytes ≠ startSector × sectorSize`,
            );
            assert.equal(
              p.sizeBytes,
              p.sizeSectors * disk.sectorSize,
              `${p.name}: sizeBytes ≠ sizeSectors × sectorSize`,
            );
          }
          const expected = expectedPartitions(part);
          const actual = actualPartitions(disk, part.dib_label);
          if (expectDifference(config.path, "layout")) {
            assert.notDeepEqual(actual, expected, "listed as a layout difference, but the layouts are equal");
            continue;
          }
          assert.deepEqual(actual, expected, `disk ${disk.name} (partitioning ${name})`);
        }
        for (const disk of ours.disks) {
          if (tableDisks.has(disk.name)) continue;
          assert.ok(dib.disks[disk.name], `blocksmith plans a disk ${disk.name} that DIB does not create`);
          // DIB wrote no partition table on this disk (no partitioning, or one without partitions).
          assert.deepEqual(
            { label: disk.label, partitions: disk.partitions.length },
            { label: null, partitions: 0 },
            disk.name,
          );
        }
      });

      it("mounts: same mount points and nodes, parents first, DIB's order unless listed", () => {
        const dib = dibLayout(config);
        const ours = parsePlan(seen(config).plan);
        if (!bothLayOut(config)) return;
        assert.ok(dib, "DIB did not lay out a config it is expected to");
        assert.ok(ours, "blocksmith did not plan a config it is expected to");
        const dibOrder = dib.mount_order;
        const ourOrder = ours.mounts.map((m) => m.mountPoint);
        assert.deepEqual(sorted(ourOrder), sorted(dibOrder), "the mount points differ");
        const dibNames = Object.fromEntries(dib.sorted_mount_points);
        const ourNames = Object.fromEntries(ours.mounts.map((m) => [m.mountPoint, m.name]));
        assert.deepEqual(ourNames, dibNames, "mount node names per mount point");
        assert.equal(
          nestingViolation(ourOrder),
          undefined,
          `blocksmith mounts a child first: ${ourOrder.join(" ")}`,
        );

        const dibWrong = nestingViolation(dibOrder);
        if (expectDifference(config.path, "mount-order")) {
          assert.ok(
            dibWrong,
            `listed as DIB mounting a child first, but DIB's order is fine: ${dibOrder.join(" ")}`,
          );
          assert.notDeepEqual(ourOrder, dibOrder);
          return;
        }
        if (ourOrder.join("\n") === dibOrder.join("\n")) return;
        assert.equal(
          dibWrong,
          undefined,
          `DIB mounts ${dibWrong?.[0]} before ${dibWrong?.[1]} (${dibOrder.join(" ")}); blocksmith fixes it ` +
            `(${ourOrder.join(" ")}): list it as a "mount-order" deliberate difference`,
        );
        assert.ok(
          useRule("mount-order-rule"),
          `mount order ${ourOrder.join(" ")} ≠ DIB's ${dibOrder.join(" ")}`,
        );
        assert.deepEqual(
          ourOrder,
          componentOrder(dibOrder),
          "blocksmith's order is not the component-wise order",
        );
      });

      it("fstab: the lines DIB's cmd_writefstab writes", () => {
        const dib = dibLayout(config);
        const ours = parsePlan(seen(config).plan);
        if (!bothLayOut(config)) return;
        assert.ok(dib, "DIB did not lay out a config it is expected to");
        assert.ok(ours, "blocksmith did not plan a config it is expected to");
        const ourLines = ours.fstab.map(fstabLine).map(maskUuid);
        if (dib.fstab_error !== null) {
          assert.deepEqual(
            dib.mount_order,
            [],
            `DIB's writefstab failed with mounts present: ${dib.fstab_error}`,
          );
          assert.ok(useRule("fstab-without-mounts"), `DIB's writefstab fails: ${dib.fstab_error}`);
          assert.deepEqual(ourLines, []);
          return;
        }
        const dibLines = dib.fstab.map(maskUuid);
        if (expectDifference(config.path, "fstab")) {
          assert.notDeepEqual(sorted(ourLines), sorted(dibLines), "listed as an fstab difference, but equal");
          return;
        }
        assert.deepEqual(sorted(ourLines), sorted(dibLines));
        const ourOrder = ours.mounts.map((m) => m.mountPoint);
        if (ourOrder.join("\n") === dib.mount_order.join("\n")) {
          assert.deepEqual(ourLines, dibLines, "same mount order, so the same line order");
        } else {
          // Both write fstab in mount order; here the mount orders differ (see the mounts test).
          const position = (line: string): number => ourOrder.indexOf(line.split(" ")[1] ?? "");
          assert.deepEqual(
            ourLines,
            [...ourLines].sort((a, b) => position(a) - position(b)),
            "fstab not in mount order",
          );
        }
      });

      it("getval: root-label, root-fstype and mount-points as DIB prints them after init", async () => {
        if (!bothLayOut(config)) return;
        const dib = dibLayout(config)!;
        const build = join(getvalWork(), config.path.replace(/[^\w.-]+/g, "_"));
        mkdirSync(build, { recursive: true });
        const params = join(build, "params.yaml");
        // The params the oracle gives DIB: no root-fs keys, so neither side merges anything into mkfs_root.
        writeFileSync(
          params,
          `config: ${join(REPO_ROOT, config.path)}\nimage-size: ${config.imageSizeBytes}\nmount-base: /mnt\nbuild-dir: ${build}\n`,
        );
        assert.equal((await blocksmith(["--params", params, "init"])).status, 0);
        for (const symbol of ["root-label", "root-fstype", "mount-points"] as const) {
          const ours = await blocksmith(["--params", params, "getval", symbol]);
          const theirs = dib.getval[symbol];
          if (theirs !== null) {
            assert.equal(ours.stdout, theirs, symbol);
            continue;
          }
          // Deliberate difference: DIB's getval reads config.json, where a root mkfs without `label` has
          // none (KeyError), although DIB's mkfs then labels it with its node name. blocksmith answers
          // that effective label. Without a "/" mount both refuse.
          const plan = parsePlan(seen(config).plan)!;
          const rootMount = plan.mounts.find((m) => m.mountPoint === "/");
          const rootFs = plan.filesystems.find((f) => f.name === rootMount?.base);
          if (symbol === "root-label" && rootFs) assert.equal(ours.stdout, `${rootFs.label}\n`, symbol);
          else assert.notEqual(ours.status, 0, `${symbol}: DIB fails, blocksmith must refuse too`);
        }
      });

      it("mkfs: the same mkfs commands as DIB (device paths and generated UUIDs aside)", () => {
        if (!bothLayOut(config)) return;
        const dib = dibLayout(config)!;
        const ours = parsePlan(seen(config).plan)!;
        // DIB names devices /dev/mapper/loopNpM or /dev/mapper/VG-LV and makes up UUIDs; blocksmith's plan
        // has placeholders for both. Everything else (type, options, label, flags) must be the same.
        const normalise = (argv: string[]): string =>
          JSON.stringify(
            argv
              .slice(0, -1)
              .map((arg, index, all) =>
                all[index - 1] === "-U" ? "<uuid>" : arg.replace(/^uuid=.*/, "uuid=<uuid>"),
              )
              .concat("<device>"),
          );
        const dibMkfs = dib.commands.filter((c) => c.argv[0] === "mkfs").map((c) => normalise(c.argv));
        const ourMkfs = ours.steps.filter((s) => s.action === "mkfs").map((s) => normalise(s.argv));
        assert.deepEqual([...ourMkfs].sort(), [...dibMkfs].sort());
      });
    });
  }

  it("every deliberate difference of these aspects names a corpus config and is exercised", () => {
    const paths = new Set(corpus.map((c) => c.path));
    for (const row of deliberateDifferences.filter((r) => HANDLED.includes(r.aspect))) {
      assert.ok(
        row.config === "*" || paths.has(row.config),
        `deliberate-differences.ts: ${row.config} is not in the corpus`,
      );
      assert.ok(
        usedRows.has(`${row.config}|${row.aspect}`),
        `deliberate difference never exercised: ${row.config} (${row.aspect})`,
      );
    }
  });
});
