import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { LayoutProblem } from "../../../../../src/core/errors.js";
import {
  layoutMbr,
  type MbrLayoutInput,
  type PartitionRequest,
} from "../../../../../src/nodes/level1/partitioning/mbr-layout.js";
import type { PartitionPlan } from "../../../../../src/plan/types.js";
import { type DibCase, missingTools, readTable, runDib, ScratchDir, seededRandom } from "./dib-oracle.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

function part(name: string, size: string, options: Partial<PartitionRequest> = {}): PartitionRequest {
  return { name, size, primary: false, boot: false, ...options };
}

function layout(diskSizeBytes: number, partitions: PartitionRequest[], alignBytes = MiB, sectorSize = 512) {
  return layoutMbr({ diskSizeBytes, sectorSize, alignBytes, partitions }).partitions;
}

/** [name, number, role, startSector, sizeSectors, ebrSector] rows, easy to compare by eye. */
function rows(plans: PartitionPlan[]): (string | number | undefined)[][] {
  return plans.map((p) => [p.name, p.number, p.role, p.startSector, p.sizeSectors, p.ebrSector]);
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

describe("layoutMbr: hand-checked layouts", () => {
  test("one primary of 100%: DIB's free() keeps one alignment unit spare at the end", () => {
    // free = 100 MiB - (2048 + 2048) * 512 = 102760448 bytes = 200704 sectors.
    const [root] = layout(100 * MiB, [part("root", "100%", { primary: true, boot: true })]);
    assert.deepEqual(root, {
      name: "root",
      number: 1,
      role: "primary",
      startSector: 2048,
      sizeSectors: 200704,
      startBytes: MiB,
      sizeBytes: 98 * MiB,
      type: "0x83",
      typeCode: "83",
      flags: ["boot", "primary"],
    });
  });

  test("primary, extended container, then logicals with EBRs and % of the space left", () => {
    const plans = layout(100 * MiB, [
      part("boot", "10MiB", { primary: true, boot: true }),
      part("swap", "20MiB", { type: "82" }),
      // free = 100 MiB - (65536 + 2048) * 512 = 70254592; half = 68608 sectors.
      part("lvm", "50%", { type: "0x8e", boot: true }),
      // free = 100 MiB - (137216 + 2048) * 512 = 33554432 = 65536 sectors: ends exactly at the disk end.
      part("data", "100%"),
    ]);
    assert.deepEqual(rows(plans), [
      ["boot", 1, "primary", 2048, 20480, undefined],
      ["extended", 2, "extended", 22528, 182272, undefined],
      ["swap", 5, "logical", 24576, 40960, 22528],
      // 67584 + 68608 = 136192, aligned up to 137216 for the next EBR.
      ["lvm", 6, "logical", 67584, 68608, 65536],
      ["data", 7, "logical", 139264, 65536, 137216],
    ]);
    const extended = plans[1]!;
    assert.equal(extended.type, "0x0f");
    assert.deepEqual(extended.flags, []);
    assert.deepEqual(
      plans.map((p) => [p.type, p.typeCode, p.flags]),
      [
        ["0x83", "83", ["boot", "primary"]],
        ["0x0f", "0f", []],
        ["0x82", "82", []],
        ["0x8e", "0x8e", ["boot"]],
        ["0x83", "83", []],
      ],
    );
  });

  test("logicals only: the container takes slot 0 and is number 1", () => {
    assert.deepEqual(rows(layout(64 * MiB, [part("a", "8MiB"), part("b", "8MiB")])), [
      ["extended", 1, "extended", 2048, 129024, undefined],
      ["a", 5, "logical", 4096, 16384, 2048],
      ["b", 6, "logical", 22528, 16384, 20480],
    ]);
  });

  test("three primaries leave the 4th slot to the container", () => {
    const plans = layout(64 * MiB, [
      part("p1", "1MiB", { primary: true }),
      part("p2", "1MiB", { primary: true }),
      part("p3", "1MiB", { primary: true }),
      part("l1", "1MiB"),
    ]);
    assert.deepEqual(
      plans.map((p) => [p.name, p.number]),
      [
        ["p1", 1],
        ["p2", 2],
        ["p3", 3],
        ["extended", 4],
        ["l1", 5],
      ],
    );
  });

  test("lengths are size // sector, not rounded; the next start is aligned up", () => {
    // 1000000 / 512 = 1953.125 -> 1953 sectors; 2048 + 1953 = 4001 -> next start 4096.
    assert.deepEqual(
      rows(layout(16 * MiB, [part("a", "1000000", { primary: true }), part("b", "1MiB", { primary: true })])),
      [
        ["a", 1, "primary", 2048, 1953, undefined],
        ["b", 2, "primary", 4096, 2048, undefined],
      ],
    );
  });

  test("alignment of one sector: the first partition starts at sector 1, logical data right after its EBR", () => {
    assert.deepEqual(
      rows(
        layout(4 * MiB, [part("a", "1KiB", { primary: true }), part("b", "1KiB"), part("c", "1KiB")], 512),
      ),
      [
        ["a", 1, "primary", 1, 2, undefined],
        ["extended", 2, "extended", 3, 8189, undefined],
        ["b", 5, "logical", 4, 2, 3],
        ["c", 6, "logical", 7, 2, 6],
      ],
    );
  });

  test("4096-byte sectors: everything in 4 KiB sectors, 1 MiB alignment is 256 sectors", () => {
    const plans = layout(64 * MiB, [part("a", "10MiB", { primary: true }), part("b", "100%")], MiB, 4096);
    // free for b = 64 MiB - (2816 + 256) * 4096 = 54525952 bytes = 13312 sectors.
    assert.deepEqual(rows(plans), [
      ["a", 1, "primary", 256, 2560, undefined],
      ["extended", 2, "extended", 2816, 13568, undefined],
      ["b", 5, "logical", 3072, 13312, 2816],
    ]);
    assert.equal(plans[2]!.startBytes, 3072 * 4096);
    assert.equal(plans[2]!.sizeBytes, 13312 * 4096);
  });

  test("types: hex with or without 0x, any case; output as two lower-case digits", () => {
    const plans = layout(64 * MiB, [
      part("a", "1MiB", { primary: true, type: "ef" }),
      part("b", "1MiB", { primary: true, type: "0x0C" }),
      part("c", "1MiB", { primary: true, type: "7" }),
      part("d", "1MiB", { primary: true, type: "0X8E" }),
    ]);
    assert.deepEqual(
      plans.map((p) => [p.type, p.typeCode]),
      [
        ["0xef", "ef"],
        ["0x0c", "0x0C"],
        ["0x07", "7"],
        ["0x8e", "0X8E"],
      ],
    );
  });

  test("an empty partition list gives an empty table", () => {
    assert.deepEqual(layout(MiB, []), []);
  });
});

describe("layoutMbr: refusals (each a deliberate difference from DIB unless noted)", () => {
  const p = (name: string) => part(name, "1MiB", { primary: true });

  test("a 5th primary (DIB writes it over the MBR boot signature)", () => {
    refused(() => layout(64 * MiB, [p("a"), p("b"), p("c"), p("d"), p("e")]), 4, "flags", /5th primary/);
  });

  test("4 primaries followed by a logical (the container would need a 5th slot)", () => {
    refused(
      () => layout(64 * MiB, [p("a"), p("b"), p("c"), p("d"), part("e", "1MiB")]),
      4,
      "flags",
      /extended container/,
    );
  });

  test("a primary after a logical (DIB raises too)", () => {
    refused(() => layout(64 * MiB, [part("a", "1MiB"), p("b")]), 1, "flags", /follows a logical/);
  });

  test("a primary that does not fit: the excess is computed in bytes", () => {
    // start 2048 + 20480 sectors on a 20480-sector disk: 2048 sectors = 1 MiB too many.
    refused(() => layout(10 * MiB, [part("a", "10MiB", { primary: true })]), 0, "size", /by 1048576 bytes/);
  });

  test("a logical that ends past the disk end once its EBR gap is counted", () => {
    // EBR at 2048, data at 4096 + 18432 = 22528 > 20480: 2048 sectors too many.
    refused(() => layout(10 * MiB, [part("a", "9MiB")]), 0, "size", /by 1048576 bytes/);
  });

  test("a partition starting at or past the disk end", () => {
    // The first partition ends at 20479; its aligned end 20480 is the disk end.
    refused(
      () => layout(10 * MiB, [p("a"), part("b", "8MiB", { primary: true }), p("c")]),
      2,
      "size",
      /no space left/,
    );
  });

  test("sizes below one sector, zero and 0%", () => {
    refused(
      () => layout(64 * MiB, [part("a", "100", { primary: true })]),
      0,
      "size",
      /less than one 512-byte sector/,
    );
    refused(() => layout(64 * MiB, [part("a", "0")]), 0, "size", /less than one/);
    refused(() => layout(64 * MiB, [part("a", "0%")]), 0, "size", /less than one/);
    refused(
      () => layout(64 * MiB, [part("a", "4000", { primary: true })], MiB, 4096),
      0,
      "size",
      /4096-byte sector/,
    );
  });

  test("a percentage over 100", () => {
    refused(() => layout(64 * MiB, [part("a", "100.5%", { primary: true })]), 0, "size", /more than 100%/);
  });

  test("a partition extending past sector 2^32 (DIB crashes packing it)", () => {
    refused(() => layout(3 * TiB, [part("a", "2.5TiB", { primary: true })]), 0, "size", /2\^32/);
    // Exactly up to 2^32 is fine.
    const [a] = layout(3 * TiB, [part("a", `${(2 ** 32 - 2048) * 512}`, { primary: true })]);
    assert.equal(a!.startSector + a!.sizeSectors, 2 ** 32);
  });

  test("an extended container reaching past 2^32 (DIB crashes packing it)", () => {
    refused(() => layout(3 * TiB, [p("a"), part("b", "1GiB")]), 1, "flags", /extended container.*2\^32/);
    // On a disk of exactly 2^32 sectors it fits.
    assert.equal(layout(2 * TiB, [part("b", "1GiB")])[0]!.sizeSectors, 2 ** 32 - 2048);
  });

  test("types that break the table or do not fit a byte", () => {
    refused(() => layout(64 * MiB, [part("a", "1MiB", { type: "00" })]), 0, "type", /empty slot/);
    for (const type of ["5", "0f", "0x85"]) {
      refused(() => layout(64 * MiB, [part("a", "1MiB", { type })]), 0, "type", /extended container type/);
    }
    refused(() => layout(64 * MiB, [part("a", "1MiB", { type: "100" })]), 0, "type", /one byte/);
    for (const type of ["zz", "", "8_3", " 83", "-1", "0x"]) {
      refused(() => layout(64 * MiB, [part("a", "1MiB", { type })]), 0, "type", /not a hexadecimal/);
    }
  });

  test("bad size syntax", () => {
    refused(() => layout(64 * MiB, [part("a", "10 parsecs")]), 0, "size", /invalid size/);
    refused(() => layout(64 * MiB, [part("a", "x%")]), 0, "size", /invalid size/);
  });

  test("bad geometry: disk not whole sectors, alignment not whole sectors", () => {
    refused(() => layout(64 * MiB + 100, [p("a")]), undefined, "size", /whole number of 512-byte sectors/);
    refused(() => layout(64 * MiB, [p("a")], 100), undefined, "align", /alignment/);
    refused(() => layout(64 * MiB, [p("a")], 1000), undefined, "align", /alignment/);
    refused(() => layout(64 * MiB, [p("a")], 512 * 3, 4096), undefined, "align", /alignment/);
    assert.throws(() => layout(64 * MiB, [p("a")], MiB, 1000), LayoutProblem);
  });
});

describe("layoutMbr: properties", () => {
  const sizeSpec = fc.oneof(
    fc.integer({ min: 0, max: 120 }).map((n) => `${n}%`),
    fc.constantFrom("33.3%", "0.5%", "99.9%", "100%"),
    fc.integer({ min: 0, max: 4 * GiB }).map(String),
    fc
      .tuple(fc.integer({ min: 0, max: 2048 }), fc.constantFrom("K", "KiB", "M", "MiB", "MB", "G", "GiB"))
      .map(([n, unit]) => `${n}${unit}`),
  );
  const request = fc.record({
    name: fc.constantFrom("a", "b", "c"),
    size: sizeSpec,
    primary: fc.boolean(),
    boot: fc.boolean(),
    type: fc.option(fc.constantFrom("83", "0x8e", "ef", "00", "5", "zz", "1ff"), { nil: undefined }),
  });
  const input = fc
    .record({
      sectorSize: fc.constantFrom(512, 4096),
      alignSectors: fc.constantFrom(1, 2, 8, 256, 2048, 8192),
      diskSectors: fc.oneof(fc.integer({ min: 1, max: 2 ** 22 }), fc.integer({ min: 1, max: 2 ** 33 })),
      partitions: fc.array(request, { minLength: 0, maxLength: 12 }),
    })
    .map(({ sectorSize, alignSectors, diskSectors, partitions }): MbrLayoutInput => ({
      sectorSize,
      alignBytes: alignSectors * sectorSize,
      diskSizeBytes: diskSectors * sectorSize,
      partitions,
    }));

  test("either a valid layout or a LayoutProblem, never another error", () => {
    let succeeded = 0;
    fc.assert(
      fc.property(input, (config) => {
        let plans: PartitionPlan[];
        try {
          plans = layoutMbr(config).partitions;
        } catch (error) {
          if (error instanceof LayoutProblem) return;
          throw error;
        }
        succeeded += 1;
        checkMbrInvariants(config, plans);
      }),
      { numRuns: 3000 },
    );
    assert.ok(succeeded > 300, `only ${succeeded} generated layouts succeeded`);
  });
});

function checkMbrInvariants(config: MbrLayoutInput, plans: PartitionPlan[]): void {
  const alignSectors = config.alignBytes / config.sectorSize;
  const diskSectors = config.diskSizeBytes / config.sectorSize;
  const primaries = plans.filter((p) => p.role === "primary");
  const extended = plans.filter((p) => p.role === "extended");
  const logicals = plans.filter((p) => p.role === "logical");
  assert.deepEqual(
    plans.filter((p) => p.role !== "extended").map((p) => p.name),
    config.partitions.map((p) => p.name),
  );
  // Numbers: primaries 1..k, container k+1, logicals 5.., and output in that order.
  assert.deepEqual(
    primaries.map((p) => p.number),
    primaries.map((_, i) => i + 1),
  );
  assert.ok(extended.length === (logicals.length > 0 ? 1 : 0));
  if (extended[0]) assert.equal(extended[0].number, primaries.length + 1);
  assert.ok(primaries.length + extended.length <= 4);
  assert.deepEqual(
    logicals.map((p) => p.number),
    logicals.map((_, i) => i + 5),
  );
  assert.deepEqual(plans, [...primaries, ...extended, ...logicals]);
  for (const p of plans) {
    assert.ok(p.sizeSectors >= 1);
    assert.ok(p.startSector >= 1, "sector 0 holds the MBR");
    assert.ok(p.startSector + p.sizeSectors <= diskSectors, `${p.name} ends past the disk`);
    assert.ok(p.startSector + p.sizeSectors <= 2 ** 32, `${p.name} ends past sector 2^32`);
    assert.equal(p.startSector % alignSectors, 0, `${p.name} is not aligned`);
    assert.equal(p.startBytes, p.startSector * config.sectorSize);
    assert.equal(p.sizeBytes, p.sizeSectors * config.sectorSize);
    assert.match(p.type, /^0x[0-9a-f]{2}$/);
  }
  // Top-level entries (primaries and the container) do not overlap.
  const topLevel = [...primaries, ...extended];
  for (let i = 1; i < topLevel.length; i += 1) {
    const previous = topLevel[i - 1]!;
    assert.ok(previous.startSector + previous.sizeSectors <= topLevel[i]!.startSector);
  }
  // Logicals: EBR then data, all inside the container, in order, without overlap.
  const container = extended[0];
  let lowest = container?.startSector ?? 0;
  for (const logical of logicals) {
    assert.ok(container);
    const ebr = logical.ebrSector!;
    assert.equal(ebr % alignSectors, 0, "EBRs are aligned");
    assert.ok(ebr >= lowest, `${logical.name}'s EBR overlaps the previous logical`);
    assert.ok(ebr < logical.startSector);
    assert.ok(logical.startSector + logical.sizeSectors <= container.startSector + container.sizeSectors);
    lowest = logical.startSector + logical.sizeSectors;
  }
}

describe("layoutMbr against DIB's own code on sparse files", () => {
  const skip = missingTools({ dib: true });
  const scratch = skip ? undefined : new ScratchDir();
  after(() => scratch?.remove());

  interface MbrConfig {
    diskSizeBytes: number;
    align?: string;
    alignBytes?: number;
    partitions: PartitionRequest[];
  }

  /** Runs DIB on every config, then compares what sfdisk reads back with layoutMbr. */
  async function compareAll(configs: MbrConfig[]): Promise<void> {
    const cases: DibCase[] = configs.map((config) => ({
      path: scratch!.sparseFile(config.diskSizeBytes),
      label: "mbr",
      ...(config.align !== undefined ? { align: config.align } : {}),
      partitions: config.partitions.map((p) => ({
        name: p.name,
        size: p.size,
        flags: [...(p.primary ? ["primary"] : []), ...(p.boot ? ["boot"] : [])],
        ...(p.type !== undefined ? { type: p.type } : {}),
      })),
    }));
    const results = await runDib(cases);
    configs.forEach((config, i) => {
      const label = `config ${i}: ${JSON.stringify(config)}`;
      const result = results[i]!;
      assert.ok(result.ok, `${label}: DIB failed: ${result.ok ? "" : result.error}`);
      const plans = layoutMbr({
        diskSizeBytes: config.diskSizeBytes,
        sectorSize: 512,
        alignBytes: config.alignBytes ?? MiB,
        partitions: config.partitions,
      }).partitions;
      const table = readTable(cases[i]!.path);
      assert.ok(table, `${label}: sfdisk found no table`);
      assert.equal(table.label, "dos");
      assert.deepEqual(
        table.partitions.map((p) => [p.number, p.start, p.size, Number.parseInt(p.type, 16), p.bootable]),
        plans.map((p) => [
          p.number,
          p.startSector,
          p.sizeSectors,
          Number.parseInt(p.type, 16),
          p.flags.includes("boot"),
        ]),
        label,
      );
    });
  }

  const P = (name: string, size: string, more: Partial<PartitionRequest> = {}) =>
    part(name, size, { primary: true, ...more });
  const L = (name: string, size: string, more: Partial<PartitionRequest> = {}) => part(name, size, more);

  test("hand-picked configs", { skip }, async () => {
    await compareAll([
      { diskSizeBytes: 100 * MiB, partitions: [P("root", "100%", { boot: true })] },
      {
        diskSizeBytes: 100 * MiB,
        partitions: [
          P("boot", "10MiB", { boot: true }),
          L("swap", "20MiB", { type: "82" }),
          L("lvm", "50%", { type: "0x8e" }),
          L("data", "100%"),
        ],
      },
      { diskSizeBytes: 256 * MiB, partitions: [L("a", "10MiB"), L("b", "20%"), L("c", "100%")] },
      {
        diskSizeBytes: GiB,
        partitions: [
          P("a", "100MiB"),
          P("b", "100M"),
          P("c", "10%"),
          L("d", "1MiB"),
          L("e", "2MiB"),
          L("f", "3MiB"),
          L("g", "50%"),
          L("h", "100%"),
        ],
      },
      {
        diskSizeBytes: 64 * MiB,
        partitions: [P("a", "8MiB"), P("b", "8MiB"), P("c", "8MiB"), P("d", "100%")],
      },
      {
        diskSizeBytes: 512 * MiB,
        partitions: Array.from({ length: 10 }, (_, i) => L(`l${i}`, "5%", { boot: i % 3 === 0 })),
      },
      {
        diskSizeBytes: 16 * MiB,
        align: "512",
        alignBytes: 512,
        partitions: [P("a", "1KiB"), P("b", "1000"), L("c", "1KiB"), L("d", "33%"), L("e", "100%")],
      },
      {
        diskSizeBytes: 32 * MiB,
        align: "4KiB",
        alignBytes: 4 * KiB,
        partitions: [P("a", "1000000"), L("b", "12345K"), L("c", "1.5M"), L("d", "100%")],
      },
      {
        diskSizeBytes: 256 * MiB,
        align: "4MiB",
        alignBytes: 4 * MiB,
        partitions: [P("a", "5MiB"), L("b", "1MiB"), L("c", "50%"), L("d", "100%")],
      },
      {
        diskSizeBytes: GiB,
        partitions: [P("a", "1000000"), P("b", "12345K"), L("c", "1.5M"), L("d", "0.3G"), L("e", "100%")],
      },
      // Disk not a multiple of the alignment: the last logical ends exactly at the disk end.
      { diskSizeBytes: 100 * MiB + 7 * 512, partitions: [P("a", "10MiB"), L("b", "100%")] },
      { diskSizeBytes: 100 * MiB + 7 * 512, partitions: [P("a", "100%")] },
      {
        diskSizeBytes: 64 * MiB,
        partitions: [
          P("a", "1MiB", { type: "ef", boot: true }),
          P("b", "1MiB", { type: "0x0C" }),
          L("c", "1MiB", { type: "07" }),
          L("d", "1MiB", { type: "a5" }),
          L("e", "1MiB", { type: "8E", boot: true }),
        ],
      },
      { diskSizeBytes: 3 * GiB, partitions: [P("a", "10MB"), P("b", "1GB"), L("c", "1G"), L("d", "100%")] },
      {
        diskSizeBytes: 200 * MiB,
        partitions: [P("a", "33.3%"), P("b", "66.6%"), L("c", "0.5%"), L("d", "99.9%")],
      },
      {
        diskSizeBytes: 128 * MiB,
        partitions: [
          P("a", "1MiB"),
          ...Array.from({ length: 9 }, (_, i) => L(`l${i}`, i % 2 ? `${i + 1}MiB` : "10%")),
        ],
      },
      {
        diskSizeBytes: 8 * MiB,
        align: "64KiB",
        alignBytes: 64 * KiB,
        partitions: [L("a", "100K"), L("b", "100KiB"), L("c", "100%")],
      },
      {
        diskSizeBytes: 20 * MiB,
        align: "1MiB",
        alignBytes: MiB,
        partitions: [P("a", "512"), P("b", "1023"), L("c", "513"), L("d", "100%")],
      },
    ]);
  });

  test("generated configs (seeded)", { skip }, async () => {
    const random = seededRandom(20240611);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const configs: MbrConfig[] = [];
    while (configs.length < 40) {
      const diskSizeBytes = pick([8 * MiB, 64 * MiB, 100 * MiB + 3 * 512, GiB, 5 * GiB + 4096]);
      const alignBytes = pick([512, 4 * KiB, 64 * KiB, MiB, 4 * MiB]);
      const count = 1 + Math.floor(random() * 10);
      const primaries = Math.min(count, Math.floor(random() * 5), count === 4 ? 4 : 3);
      const partitions = Array.from({ length: count }, (_, i): PartitionRequest => {
        const roll = random();
        const size =
          roll < 0.4
            ? `${Math.ceil(random() * 60)}%`
            : roll < 0.7
              ? `${Math.floor((random() * diskSizeBytes) / (count * 2))}`
              : roll < 0.9
                ? `${Math.max(1, Math.floor((random() * diskSizeBytes) / (count * 2 * MiB)))}MiB`
                : "100%";
        return {
          name: `p${i}`,
          size: i === count - 1 && random() < 0.3 ? "100%" : size,
          primary: i < primaries,
          boot: random() < 0.2,
          ...(random() < 0.5 ? { type: pick(["83", "82", "0x8e", "EF", "7", "0x0c"]) } : {}),
        };
      });
      const config = { diskSizeBytes, align: String(alignBytes), alignBytes, partitions };
      try {
        layoutMbr({ ...config, sectorSize: 512 });
        configs.push(config);
      } catch (error) {
        if (!(error instanceof LayoutProblem)) throw error;
      }
    }
    await compareAll(configs);
  });

  test("DIB raises too: a primary after a logical", { skip }, async () => {
    const path = scratch!.sparseFile(64 * MiB);
    const [result] = await runDib([
      {
        path,
        label: "mbr",
        partitions: [
          { name: "a", size: "1MiB" },
          { name: "b", size: "1MiB", flags: ["primary"] },
        ],
      },
    ]);
    assert.ok(result && !result.ok);
    assert.match(result.error, /All primary partitions must be given first/);
  });

  describe("what DIB does where we refuse", () => {
    async function image(size: number, partitions: DibCase["partitions"], align?: string) {
      const path = scratch!.sparseFile(size);
      const [result] = await runDib([
        { path, label: "mbr", partitions, ...(align !== undefined ? { align } : {}) },
      ]);
      assert.ok(result);
      return { result, path };
    }
    const primary = (name: string, size = "1MiB", type?: string) => ({
      name,
      size,
      flags: ["primary"],
      ...(type ? { type } : {}),
    });

    test(
      "5th primary, or 4 primaries and a logical: DIB overwrites the boot signature",
      { skip },
      async () => {
        for (const partitions of [
          ["a", "b", "c", "d", "e"].map((n) => primary(n)),
          [...["a", "b", "c", "d"].map((n) => primary(n)), { name: "e", size: "1MiB" }],
        ]) {
          const { result, path } = await image(64 * MiB, partitions);
          assert.ok(result?.ok);
          assert.equal(readTable(path), undefined, "sfdisk should find no valid MBR");
        }
      },
    );

    test("a partition past the disk end: DIB writes it anyway", { skip }, async () => {
      const { result, path } = await image(10 * MiB, [primary("a", "10MiB")]);
      assert.ok(result?.ok);
      const [entry] = readTable(path)!.partitions;
      assert.equal(entry!.start + entry!.size, 22528, "ends 2048 sectors past the 20480-sector disk");
    });

    test("a % over 100: DIB lays out more than the space left, past the disk end", { skip }, async () => {
      const { result, path } = await image(10 * MiB, [primary("a", "150%")]);
      assert.ok(result?.ok);
      const [entry] = readTable(path)!.partitions;
      assert.ok(entry!.start + entry!.size > 20480);
    });

    test("sizes below one sector: DIB writes a zero-length entry", { skip }, async () => {
      for (const partitions of [[primary("a", "100")], [primary("a", "0%")]]) {
        const { result, path } = await image(10 * MiB, partitions);
        assert.ok(result.ok);
        assert.deepEqual(
          readTable(path)!.partitions.map((p) => p.size),
          [0],
        );
      }
    });

    test("type 00: DIB writes an entry with the empty-slot type", { skip }, async () => {
      const { result, path } = await image(10 * MiB, [primary("a", "1MiB", "00")]);
      assert.ok(result.ok);
      assert.equal(readTable(path)!.partitions[0]!.type, "0");
    });

    test("type 05 on a data partition: readers take it for an extended container", { skip }, async () => {
      const { result, path } = await image(10 * MiB, [primary("a", "1MiB", "05")]);
      assert.ok(result?.ok);
      assert.equal(readTable(path)!.partitions[0]!.type, "5");
    });

    test("crashes: type over 0xff, alignment below a sector, past 2^32 sectors", { skip }, async () => {
      const crashes: [DibCase["partitions"], string | undefined, RegExp][] = [
        [[primary("a", "1MiB", "100")], undefined, /ubyte format/],
        [[primary("a")], "100", /ZeroDivisionError/],
      ];
      for (const [partitions, align, error] of crashes) {
        const { result } = await image(10 * MiB, partitions, align);
        assert.ok(!result.ok && error.test(result.error), JSON.stringify(result));
      }
      for (const partitions of [[primary("a", "2.5TiB")], [{ name: "a", size: "1GiB" }]]) {
        const { result } = await image(3 * TiB, partitions);
        assert.ok(!result.ok && /format requires/.test(result.error), JSON.stringify(result));
      }
    });

    test("alignment not a whole number of sectors: DIB silently rounds it down", { skip }, async () => {
      const { result, path } = await image(10 * MiB, [primary("a")], "1000");
      assert.ok(result?.ok);
      assert.equal(readTable(path)!.partitions[0]!.start, 1, "1000 bytes became 1 sector");
    });
  });
});
