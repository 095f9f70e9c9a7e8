import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { LayoutProblem } from "../../../../../src/core/errors.js";
import {
  type GptLayoutInput,
  type GptPartitionRequest,
  layoutGpt,
  sgdiskPartitionName,
} from "../../../../../src/nodes/level1/partitioning/gpt-layout.js";
import type { PartitionPlan } from "../../../../../src/plan/types.js";
import { type DibCase, missingTools, readTable, runDib, ScratchDir, seededRandom } from "./dib-oracle.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const LINUX_FS = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

function part(name: string, size: string, options: Partial<GptPartitionRequest> = {}): GptPartitionRequest {
  return { name, size, boot: false, ...options };
}

function layout(
  diskSizeBytes: number,
  partitions: GptPartitionRequest[],
  sectorSize = 512,
  alignBytes = MiB,
) {
  return layoutGpt({ diskSizeBytes, sectorSize, alignBytes, partitions });
}

/** [number, startSector, sizeSectors] rows. */
function rows(plans: PartitionPlan[]): number[][] {
  return plans.map((p) => [p.number, p.startSector, p.sizeSectors]);
}

function refused(
  run: () => unknown,
  itemIndex: number | undefined,
  key: string | undefined,
  message: RegExp,
): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof LayoutProblem, `expected a LayoutProblem, got ${String(error)}`);
    assert.equal(error.itemIndex, itemIndex);
    assert.equal(error.key, key);
    assert.match(error.message, message);
    assert.ok(error.hint, "a LayoutProblem should say how to fix it");
    return true;
  });
}

describe("layoutGpt: hand-checked layouts", () => {
  test("one partition of 100%: DIB keeps 2 MiB out, sgdisk starts at 2048", () => {
    const result = layout(100 * MiB, [part("root", "100%")]);
    assert.equal(result.firstUsableSector, 34);
    assert.equal(result.lastUsableSector, 204800 - 34);
    assert.deepEqual(result.partitions, [
      {
        name: "root",
        number: 1,
        role: "gpt",
        startSector: 2048,
        sizeSectors: 98 * 2048,
        startBytes: MiB,
        sizeBytes: 98 * MiB,
        type: LINUX_FS,
        typeCode: "8300",
        flags: [],
        gptName: "root",
      },
    ]);
  });

  test("percentages are of the space DIB has left, partitions follow each other", () => {
    // disk_free: 98 MiB; after "10MiB": 88 MiB, 50% = 44 MiB; then 44 MiB left, 100% = 44 MiB.
    assert.deepEqual(
      rows(layout(100 * MiB, [part("a", "10MiB"), part("b", "50%"), part("c", "100%")]).partitions),
      [
        [1, 2048, 20480],
        [2, 22528, 90112],
        [3, 112640, 90112],
      ],
    );
  });

  test("sizes go to sgdisk in whole MiB, but DIB subtracts the exact size from disk_free", () => {
    // "1.5MiB" -> +1M; disk_free 98 - 1.5 = 96.5 MiB -> +96M.
    assert.deepEqual(rows(layout(100 * MiB, [part("a", "1.5MiB"), part("b", "100%")]).partitions), [
      [1, 2048, 2048],
      [2, 4096, 96 * 2048],
    ]);
  });

  test("types: default 8300, codes in any case, GUIDs upper-cased; typeCode as written", () => {
    const plans = layout(100 * MiB, [
      part("a", "1MiB"),
      part("b", "1MiB", { type: "ef00" }),
      part("c", "1MiB", { type: "EF02" }),
      part("d", "1MiB", { type: ESP.toLowerCase() }),
      part("e", "1MiB", { type: "0x8e00" }),
    ]).partitions;
    assert.deepEqual(
      plans.map((p) => [p.type, p.typeCode]),
      [
        [LINUX_FS, "8300"],
        [ESP, "ef00"],
        ["21686148-6449-6E6F-744E-656564454649", "EF02"],
        [ESP, ESP.toLowerCase()],
        ["E6D6D379-F507-44C2-A23C-238F2A3DF928", "0x8e00"],
      ],
    );
  });

  test("boot is kept as a flag; names are what sgdisk stores", () => {
    const plans = layout(100 * MiB, [part("efi", "1MiB", { boot: true }), part("a:b", "1MiB")]).partitions;
    assert.deepEqual(
      plans.map((p) => [p.flags, p.gptName]),
      [
        [["boot"], "efi"],
        [[], "a"],
      ],
    );
  });

  test("sgdisk's name rules: cut at the first colon, at most 36 UTF-16 units, no half characters", () => {
    assert.equal(sgdiskPartitionName("root"), "root");
    assert.equal(sgdiskPartitionName("a:b c"), "a");
    assert.equal(sgdiskPartitionName(":x"), "");
    assert.equal(sgdiskPartitionName("x".repeat(40)), "x".repeat(36));
    assert.equal(sgdiskPartitionName("ü".repeat(40)), "ü".repeat(36));
    assert.equal(sgdiskPartitionName("😀".repeat(20)), "😀".repeat(18));
    assert.equal(sgdiskPartitionName(`a${"😀".repeat(20)}`), `a${"😀".repeat(17)}`);
  });

  test("4096-byte sectors: first usable 6, last usable total - 6, 1 MiB = 256 sectors", () => {
    const result = layout(64 * MiB, [part("a", "10MiB"), part("b", "100%")], 4096);
    assert.equal(result.firstUsableSector, 6);
    assert.equal(result.lastUsableSector, 16384 - 6);
    // disk_free 62 MiB; after a: 52 MiB.
    assert.deepEqual(rows(result.partitions), [
      [1, 256, 2560],
      [2, 2816, 52 * 256],
    ]);
    assert.equal(result.partitions[1]!.startBytes, 2816 * 4096);
  });

  test("a disk size that is not whole sectors: sgdisk ignores the partial sector", () => {
    const result = layout(100 * MiB + 100, [part("a", "100%")]);
    assert.equal(result.lastUsableSector, 204766);
    // disk_free = 98 MiB + 100 bytes -> +98M.
    assert.deepEqual(rows(result.partitions), [[1, 2048, 98 * 2048]]);
  });

  test("an empty partition list still has usable bounds", () => {
    assert.deepEqual(layout(MiB, []), { partitions: [], firstUsableSector: 34, lastUsableSector: 2014 });
  });
});

describe("layoutGpt: refusals", () => {
  test("under 1 MiB: DIB would write +0M, which sgdisk takes as the rest of the disk", () => {
    for (const size of ["512KiB", "0", "0%", "1048575", "0.5%"]) {
      refused(() => layout(100 * MiB, [part("a", size)]), 0, "size", /\+0M/);
    }
  });

  test("more than the space DIB has left (DIB fails its assert): the excess in bytes", () => {
    // 10 MiB disk: disk_free 8 MiB.
    refused(() => layout(10 * MiB, [part("a", "9MiB")]), 0, "size", /by 1048576 bytes/);
    refused(
      () => layout(10 * MiB, [part("a", "4MiB"), part("b", "4MiB"), part("c", "1")]),
      2,
      "size",
      /by 1 bytes/,
    );
  });

  test("a percentage over 100, or any percentage when nothing is left", () => {
    refused(() => layout(100 * MiB, [part("a", "101%")]), 0, "size", /more than 100%/);
    refused(() => layout(2 * MiB, [part("a", "50%")]), 0, "size", /no space left/);
  });

  test("unknown type codes, with a suggestion", () => {
    refused(() => layout(100 * MiB, [part("a", "1MiB", { type: "ef" })]), 0, "type", /did you mean "ef00"/);
    refused(
      () => layout(100 * MiB, [part("a", "1MiB", { type: "zzzz" })]),
      0,
      "type",
      /unknown GPT type "zzzz"/,
    );
  });

  test("more than 128 partitions", () => {
    const many = Array.from({ length: 129 }, (_, i) => part(`p${i}`, "1MiB"));
    refused(() => layout(GiB, many), 128, "name", /128 entries/);
    assert.equal(layout(GiB, many.slice(0, 128)).partitions.length, 128);
  });

  test("a partition crossing the last usable sector (only with alignments over 1 MiB)", () => {
    // 16 MiB disk, 4 MiB alignment: start 8192 + 13 MiB = 34815 > 32734, 2081 sectors too far.
    refused(() => layout(16 * MiB, [part("a", "13MiB")], 512, 4 * MiB), 0, "size", /1065472 bytes past/);
  });

  test("bad geometry", () => {
    refused(() => layout(8 * 1024, []), undefined, "size", /too small for a GPT/);
    refused(() => layout(0, []), undefined, "size", /disk size/);
    refused(() => layout(GiB, [], 512, 100), undefined, "align", /alignment/);
    assert.throws(() => layout(GiB, [], 1000), LayoutProblem);
    assert.throws(() => layout(GiB, [], 2 * MiB), LayoutProblem);
  });

  test("bad size syntax", () => {
    refused(() => layout(GiB, [part("a", "ten")]), 0, "size", /invalid size/);
  });
});

describe("layoutGpt: properties", () => {
  const sizeSpec = fc.oneof(
    fc.integer({ min: 0, max: 110 }).map((n) => `${n}%`),
    fc.constantFrom("0.5%", "33.3%", "100%"),
    fc.integer({ min: 0, max: 2 * GiB }).map(String),
    fc
      .tuple(fc.integer({ min: 0, max: 4096 }), fc.constantFrom("KiB", "M", "MiB", "G", "GiB"))
      .map(([n, u]) => `${n}${u}`),
  );
  const input = fc
    .record({
      sectorSize: fc.constantFrom(512, 4096),
      alignBytes: fc.constantFrom(4096, 64 * 1024, MiB, 4 * MiB),
      diskSizeBytes: fc.oneof(fc.integer({ min: 1, max: 64 * MiB }), fc.integer({ min: 1, max: 64 * GiB })),
      partitions: fc.array(
        fc.record({
          name: fc.string({ maxLength: 40 }),
          size: sizeSpec,
          boot: fc.boolean(),
          type: fc.option(fc.constantFrom("8300", "EF00", "ef02", "ef", "zzzz", ESP), { nil: undefined }),
        }),
        { maxLength: 12 },
      ),
    })
    .map((config): GptLayoutInput => config);

  test("either a valid layout or a LayoutProblem, never another error", () => {
    let succeeded = 0;
    fc.assert(
      fc.property(input, (config) => {
        let result: ReturnType<typeof layoutGpt>;
        try {
          result = layoutGpt(config);
        } catch (error) {
          if (error instanceof LayoutProblem) return;
          throw error;
        }
        succeeded += 1;
        const alignSectors = config.alignBytes / config.sectorSize;
        const totalSectors = Math.floor(config.diskSizeBytes / config.sectorSize);
        assert.equal(result.lastUsableSector, totalSectors - result.firstUsableSector);
        assert.deepEqual(
          result.partitions.map((p) => p.number),
          config.partitions.map((_, i) => i + 1),
        );
        let previousEnd = result.firstUsableSector - 1;
        for (const p of result.partitions) {
          assert.equal(p.startSector % alignSectors, 0, "aligned");
          assert.ok(p.startSector > previousEnd, "no overlap, in order");
          assert.ok(p.sizeSectors >= 1 && (p.sizeSectors * config.sectorSize) % MiB === 0, "whole MiB");
          assert.ok(p.startSector + p.sizeSectors - 1 <= result.lastUsableSector, "inside the usable area");
          assert.equal(p.role, "gpt");
          assert.match(p.type, /^[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}$/);
          previousEnd = p.startSector + p.sizeSectors - 1;
        }
      }),
      { numRuns: 3000 },
    );
    assert.ok(succeeded > 300, `only ${succeeded} generated layouts succeeded`);
  });
});

describe("layoutGpt against DIB's own sgdisk call on sparse files", () => {
  const skip = missingTools({ dib: true, sgdisk: true });
  const scratch = skip ? undefined : new ScratchDir();
  after(() => scratch?.remove());

  interface GptConfig {
    diskSizeBytes: number;
    partitions: GptPartitionRequest[];
  }

  function dibCase(config: GptConfig): DibCase {
    return {
      path: scratch!.sparseFile(config.diskSizeBytes),
      label: "gpt",
      partitions: config.partitions.map((p) => ({
        name: p.name,
        size: p.size,
        ...(p.boot ? { flags: ["boot"] } : {}),
        ...(p.type !== undefined ? { type: p.type } : {}),
      })),
    };
  }

  /** Runs DIB (and so sgdisk) on every config and compares sfdisk's reading with layoutGpt. */
  async function compareAll(configs: GptConfig[]): Promise<void> {
    const cases = configs.map(dibCase);
    const results = await runDib(cases);
    configs.forEach((config, i) => {
      const label = `config ${i}: ${JSON.stringify(config)}`;
      const result = results[i]!;
      assert.ok(result.ok, `${label}: DIB failed: ${result.ok ? "" : result.error}`);
      const planned = layoutGpt({ ...config, sectorSize: 512, alignBytes: MiB });
      // The argv DIB built asks for exactly our sizes.
      const sizes = result.argv!.filter((arg) => /^\d+:0:\+\d+M$/.test(arg));
      assert.deepEqual(
        sizes,
        planned.partitions.map((p) => `${p.number}:0:+${p.sizeBytes / MiB}M`),
        label,
      );
      const table = readTable(cases[i]!.path);
      assert.ok(table, `${label}: sfdisk found no table`);
      assert.equal(table.label, "gpt");
      assert.equal(table.firstLba, planned.firstUsableSector, label);
      assert.equal(table.lastLba, planned.lastUsableSector, label);
      assert.deepEqual(
        table.partitions.map((p) => [p.number, p.start, p.size, p.type.toUpperCase(), p.name]),
        planned.partitions.map((p) => [p.number, p.startSector, p.sizeSectors, p.type, p.gptName]),
        label,
      );
    });
  }

  test("hand-picked configs", { skip }, async () => {
    await compareAll([
      { diskSizeBytes: 100 * MiB, partitions: [part("root", "100%")] },
      { diskSizeBytes: 100 * MiB, partitions: [part("a", "10MiB"), part("b", "50%"), part("c", "100%")] },
      { diskSizeBytes: 100 * MiB, partitions: [part("a", "1.5MiB"), part("b", "100%")] },
      {
        diskSizeBytes: GiB,
        partitions: [
          part("ESP", "550MiB", { type: "EF00", boot: true }),
          part("BSP", "1MiB", { type: "ef02" }),
          part("root", "100%", { type: "8304" }),
        ],
      },
      { diskSizeBytes: 100 * MiB + 100, partitions: [part("a", "100%")] },
      { diskSizeBytes: 3 * MiB, partitions: [part("tiny", "1MiB")] },
      { diskSizeBytes: 3 * MiB + 512 * 33, partitions: [part("tiny", "100%")] },
      {
        diskSizeBytes: 5 * GiB + 4096,
        partitions: [part("a", "1G"), part("b", "1GB"), part("c", "33.3%"), part("d", "2G")],
      },
      {
        diskSizeBytes: 256 * MiB,
        partitions: [
          part("a:b c", "8MiB"),
          part("x".repeat(40), "8MiB"),
          part("ü".repeat(40), "8MiB"),
          part(`a${"😀".repeat(20)}`, "8MiB"),
        ],
      },
      {
        diskSizeBytes: 512 * MiB,
        partitions: Array.from({ length: 10 }, (_, i) =>
          part(`p${i}`, i % 2 ? `${i + 1}MiB` : "9%", { type: ["8200", "8e00", "FD00", "a503"][i % 4]! }),
        ),
      },
      {
        diskSizeBytes: 64 * MiB,
        partitions: [part("a", "1048576"), part("b", "2097151"), part("c", "1.99MiB"), part("d", "100%")],
      },
      {
        diskSizeBytes: 64 * MiB,
        partitions: [part("a", "1MiB", { type: ESP.toLowerCase() }), part("b", "1MiB", { type: "0x8300" })],
      },
    ]);
  });

  test("generated configs (seeded)", { skip }, async () => {
    const random = seededRandom(977);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const configs: GptConfig[] = [];
    while (configs.length < 30) {
      const diskSizeBytes = pick([4 * MiB, 64 * MiB, 100 * MiB + 7 * 512, GiB, 5 * GiB + 100]);
      const count = 1 + Math.floor(random() * 10);
      const partitions = Array.from({ length: count }, (_, i): GptPartitionRequest => {
        const roll = random();
        const size =
          roll < 0.4
            ? `${Math.ceil(random() * 60)}%`
            : roll < 0.7
              ? `${Math.floor((random() * diskSizeBytes) / count)}`
              : roll < 0.9
                ? `${Math.max(1, Math.floor((random() * diskSizeBytes) / (count * MiB)))}MiB`
                : "100%";
        return {
          name: `part${i}`,
          size: i === count - 1 && random() < 0.3 ? "100%" : size,
          boot: random() < 0.2,
          ...(random() < 0.5
            ? { type: pick(["8300", "EF00", "ef02", "8e00", "0700", "fd00", "8304", "8305"]) }
            : {}),
        };
      });
      try {
        layoutGpt({ diskSizeBytes, sectorSize: 512, alignBytes: MiB, partitions });
        configs.push({ diskSizeBytes, partitions });
      } catch (error) {
        if (!(error instanceof LayoutProblem)) throw error;
      }
    }
    await compareAll(configs);
  });

  describe("what DIB does where we refuse", () => {
    async function run(config: GptConfig) {
      const dib = dibCase(config);
      const [result] = await runDib([dib]);
      assert.ok(result);
      return { result, path: dib.path };
    }

    test('under 1 MiB: "+0M" makes sgdisk fill the rest of the disk', { skip }, async () => {
      const { result, path } = await run({ diskSizeBytes: 100 * MiB, partitions: [part("small", "512KiB")] });
      assert.ok(result.ok);
      assert.ok(result.argv!.includes("1:0:+0M"));
      const [entry] = readTable(path)!.partitions;
      assert.deepEqual([entry!.start, entry!.start + entry!.size - 1], [2048, 204766]);
    });

    test('an unknown hex code: sgdisk silently writes "Linux filesystem"', { skip }, async () => {
      const runs = await Promise.all(
        ["ef", "1234"].map((type) =>
          run({ diskSizeBytes: 100 * MiB, partitions: [part("esp", "1MiB", { type })] }),
        ),
      );
      for (const { result, path } of runs) {
        assert.ok(result.ok);
        assert.equal(readTable(path)!.partitions[0]!.type, LINUX_FS);
      }
    });

    test("too large, over 100%, or over 128 partitions: DIB fails", { skip }, async () => {
      const failures: [GptConfig, RegExp][] = [
        [{ diskSizeBytes: 10 * MiB, partitions: [part("a", "9MiB")] }, /AssertionError/],
        [{ diskSizeBytes: 100 * MiB, partitions: [part("a", "101%")] }, /AssertionError/],
        [
          { diskSizeBytes: GiB, partitions: Array.from({ length: 129 }, (_, i) => part(`p${i}`, "1MiB")) },
          /Could not create partition 129/,
        ],
      ];
      for (const [config, error] of failures) {
        const { result } = await run(config);
        assert.ok(!result.ok && error.test(result.error), JSON.stringify(result));
      }
    });
  });
});
