import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { loadConfig } from "../../../src/config/load.js";
import { dibChs, parseMbrType, sgdiskChs, writeMbr, writeProtectiveMbr } from "../../../src/formats/mbr.js";
import { planLayout } from "../../../src/plan/planner.js";
import type { DiskPlan, PartitionPlan } from "../../../src/plan/types.js";
import { readFileSync } from "node:fs";
import {
  nonZeroSectors,
  run,
  sectorsOfWrites,
  skipUnless,
  sparseFile,
  SYSTEM_PYTHON,
  tempDir,
} from "./table-tools.js";

const CONFIGS = [
  "mbr-align-4mib",
  "mbr-align-64kib",
  "mbr-boot-and-root",
  "mbr-decimal-units",
  "mbr-float-rounding",
  "mbr-four-primaries",
  "mbr-fractional-percent",
  "mbr-logicals-only",
  "mbr-primaries-and-logicals",
  "mbr-single-root",
  "mbr-ten-partitions",
  "mbr-types",
];
const DISK_SIGNATURE = 0xdeadbeef;
const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

function plannedDisk(config: string): DiskPlan {
  const file = join(REPO_ROOT, "test/differential/configs", `${config}.yaml`);
  const imageSize = /^#\s*image-size:\s*(\S+)/m.exec(readFileSync(file, "utf8"))?.[1] ?? "4GiB";
  const disk = planLayout(loadConfig(file).model, { imageSize }).disks.find((d) => d.label === "mbr");
  assert.ok(disk, `${config} plans no MBR disk`);
  return disk;
}

/**
 * DIB's MBR class driven with the planned byte sizes (the planner reproduces `_create_mbr`'s size
 * math, so these are the sizes DIB resolves), with `random.randint` pinned to our disk signature.
 */
const DIB_DRIVER = String.raw`
import json, random, sys
from diskimage_builder.block_device.level1.mbr import MBR
path, disk_size, align, disk_id, parts = sys.argv[1:]
random.randint = lambda a, b: int(disk_id)
with MBR(path, int(disk_size), int(align)) as mbr:
    for p in json.loads(parts):
        mbr.add_partition(p["primary"], p["boot"], p["sizeBytes"], p["type"])
`;

function writeWithDib(path: string, disk: DiskPlan): void {
  sparseFile(path, disk.sizeBytes);
  const parts = disk.partitions
    .filter((p) => p.role !== "extended")
    .map((p) => ({
      primary: p.role === "primary",
      boot: p.flags.includes("boot"),
      sizeBytes: p.sizeBytes,
      type: parseMbrType(p.type, p.name),
    }));
  run([
    SYSTEM_PYTHON,
    "-c",
    DIB_DRIVER,
    path,
    String(disk.sizeBytes),
    String(disk.alignBytes),
    String(DISK_SIGNATURE),
    JSON.stringify(parts),
  ]);
}

interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  bootable?: boolean;
}

describe("writeMbr against sfdisk and DIB", () => {
  const skip = skipUnless("sfdisk", "dib");
  const dir = tempDir("blocksmith-mbr-");
  after(dir.remove);

  for (const config of CONFIGS) {
    it(`${config}: sfdisk reads back the plan, and the table sectors equal DIB's`, { skip }, () => {
      const disk = plannedDisk(config);
      const writes = writeMbr(disk, { diskSignature: DISK_SIGNATURE });
      const ours = sparseFile(join(dir.path, `${config}.ours`), disk.sizeBytes, writes);

      const table = JSON.parse(run(["sfdisk", "-J", ours])).partitiontable as {
        label: string;
        id: string;
        partitions: SfdiskPartition[];
      };
      assert.equal(table.label, "dos");
      assert.equal(table.id, "0xdeadbeef");
      assert.deepEqual(
        table.partitions.map((p) => ({
          number: Number(/(\d+)$/.exec(p.node)![1]),
          start: p.start,
          size: p.size,
          type: `0x${p.type.padStart(2, "0")}`,
          bootable: p.bootable === true,
        })),
        [...disk.partitions]
          .sort((a, b) => a.number - b.number)
          .map((p) => ({
            number: p.number,
            start: p.startSector,
            size: p.sizeSectors,
            type: p.type.toLowerCase(),
            bootable: p.flags.includes("boot") && p.role !== "extended",
          })),
      );

      const dib = join(dir.path, `${config}.dib`);
      writeWithDib(dib, disk);
      const dibSectors = nonZeroSectors(dib);
      // Same bytes in every table sector, and neither side wrote anything else.
      assert.deepEqual(nonZeroSectors(ours), dibSectors);
      assert.deepEqual(sectorsOfWrites(writes), dibSectors);
      assert.equal(writes.length, 1 + disk.partitions.filter((p) => p.role === "logical").length);
    });
  }
});

describe("DIB's CHS encoding", () => {
  it("copies DIB's quirks: `cylinder // 4` in the sector byte, and the maximum only above 254*63*1023", () => {
    assert.deepEqual(dibChs(0), [0, 1, 0]);
    assert.deepEqual(dibChs(2048), [32, 33, 0]);
    // Cylinder 300: DIB ORs 300 // 4 = 75 into the sector byte (a correct encoder would put 64).
    assert.deepEqual(dibChs(300 * 254 * 63), [0, 1 | 75, 300 % 256]);
    assert.deepEqual(dibChs(254 * 63 * 1023), [0, 1 | 255, 1023 % 256]);
    assert.deepEqual(dibChs(254 * 63 * 1023 + 1), [254, 63 | 255, 255]);
  });
});

describe("writeProtectiveMbr against sgdisk", () => {
  const skip = skipUnless("sgdisk");
  const dir = tempDir("blocksmith-pmbr-");
  after(dir.remove);

  // Around the CHS limit (255*63*1024 = 16450560) and the 32-bit size limit.
  const totals = [
    2048,
    6144,
    204800,
    8388608,
    16450560,
    16450561,
    16450562,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 32 + 1,
  ];
  for (const totalSectors of totals) {
    it(`a ${totalSectors}-sector disk gets the bytes sgdisk writes`, { skip }, () => {
      const file = sparseFile(join(dir.path, `${totalSectors}.img`), totalSectors * 512);
      run(["sgdisk", "-o", file]);
      const sgdiskSector = nonZeroSectors(file)["0"];
      assert.equal(writeProtectiveMbr(totalSectors, 512).data.toString("hex"), sgdiskSector);
    });
  }

  it("computes gdisk's CHS: zero for LBA 0, FF FF FF from cylinder 1024 on", () => {
    assert.deepEqual(sgdiskChs(0), [0, 0, 0]);
    assert.deepEqual(sgdiskChs(1), [0, 2, 0]);
    assert.deepEqual(sgdiskChs(16450559), [254, 255, 255]);
    assert.deepEqual(sgdiskChs(16450560), [255, 255, 255]);
  });
});

describe("writeMbr refuses what it cannot write", () => {
  const disk = (partitions: Partial<PartitionPlan>[], sectorSize = 512): DiskPlan => ({
    name: "image0",
    kind: "local_loop",
    path: "image0.raw",
    sizeBytes: 2 ** 31,
    sectorSize,
    label: "mbr",
    partitioning: "p",
    alignBytes: 2 ** 20,
    partitions: partitions.map((p, i) => ({
      name: `p${i}`,
      number: i + 1,
      role: "primary",
      startSector: 2048,
      sizeSectors: 2048,
      startBytes: 0,
      sizeBytes: 0,
      type: "0x83",
      typeCode: "83",
      flags: [],
      ...p,
    })),
  });
  it("4096-byte sectors", () => {
    assert.throws(() => writeMbr(disk([{}], 4096), { diskSignature: 1 }), /512-byte sectors/);
  });
  it("a fifth primary slot", () => {
    assert.throws(() => writeMbr(disk([{ number: 5 }]), { diskSignature: 1 }), /slot 5/);
  });
  it("sizes past 32 bits", () => {
    assert.throws(() => writeMbr(disk([{ sizeSectors: 2 ** 32 }]), { diskSignature: 1 }), /length/);
  });
  it("types that are not 0xNN", () => {
    assert.throws(() => writeMbr(disk([{ type: "83" }]), { diskSignature: 1 }), /not "0xNN"/);
  });
});

/** A DIB-style layout built the way DIB's MBR class places partitions. */
function dibLayout(
  alignSectors: number,
  primaries: number[],
  logicals: number[],
  boots: boolean[],
): DiskPlan {
  const align = (n: number): number => Math.ceil(n / alignSectors) * alignSectors;
  const partitions: PartitionPlan[] = [];
  let next = align(1);
  const base = { startBytes: 0, sizeBytes: 0, typeCode: "83", type: "0x83" };
  primaries.forEach((size, i) => {
    const flags = boots[partitions.length] ? ["primary", "boot"] : ["primary"];
    partitions.push({
      ...base,
      name: `p${i}`,
      number: i + 1,
      role: "primary",
      startSector: next,
      sizeSectors: size,
      flags,
    });
    next = align(next + size);
  });
  const totalSectors =
    next + logicals.reduce((sum, size) => sum + 2 * alignSectors + size, 0) + 2 * alignSectors;
  if (logicals.length > 0) {
    const extendedStart = next;
    partitions.push({
      ...base,
      name: "extended",
      number: primaries.length + 1,
      role: "extended",
      startSector: extendedStart,
      sizeSectors: totalSectors - extendedStart,
      type: "0x0f",
      flags: [],
    });
    logicals.forEach((size, i) => {
      const ebrSector = next;
      const startSector = align(ebrSector + 1);
      const flags = boots[partitions.length] ? ["boot"] : [];
      partitions.push({
        ...base,
        name: `l${i}`,
        number: 5 + i,
        role: "logical",
        startSector,
        sizeSectors: size,
        flags,
        ebrSector,
      });
      next = align(startSector + size);
    });
  }
  return {
    name: "image0",
    kind: "local_loop",
    path: "image0.raw",
    sizeBytes: totalSectors * 512,
    sectorSize: 512,
    label: "mbr",
    partitioning: "p",
    alignBytes: alignSectors * 512,
    partitions,
  };
}

describe("writeMbr properties", () => {
  it("writes whole 512-byte table sectors inside the disk, never overlapping each other or partition data", () => {
    const size = fc.integer({ min: 1, max: 5_000_000 });
    fc.assert(
      fc.property(
        fc.constantFrom(1, 8, 128, 2048, 8192),
        fc.array(size, { maxLength: 4 }),
        fc.array(size, { maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (alignSectors, primaries, logicals, boots, diskSignature) => {
          if (primaries.length === 4 && logicals.length > 0) primaries.pop();
          const disk = dibLayout(alignSectors, primaries, logicals, boots);
          const writes = writeMbr(disk, { diskSignature });
          const sectors = writes.map((w) => w.offsetBytes / 512);
          assert.equal(new Set(sectors).size, sectors.length);
          for (const write of writes) {
            assert.equal(write.data.length, 512);
            assert.equal(write.offsetBytes % 512, 0);
            assert.ok(write.offsetBytes + 512 <= disk.sizeBytes);
            assert.equal(write.data.readUInt16LE(510), 0xaa55);
            const sector = write.offsetBytes / 512;
            for (const p of disk.partitions.filter((q) => q.role !== "extended")) {
              assert.ok(sector < p.startSector || sector >= p.startSector + p.sizeSectors);
            }
          }
          assert.equal(writes[0]!.data.readUInt32LE(440), diskSignature);
        },
      ),
    );
  });
});
