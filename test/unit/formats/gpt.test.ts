import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { loadConfig } from "../../../src/config/load.js";
import { crc32 } from "../../../src/formats/crc32.js";
import {
  decodeGuid,
  encodeGptName,
  encodeGuid,
  GPT_ENTRY_ARRAY_BYTES,
  writeGpt,
} from "../../../src/formats/gpt.js";
import type { SectorWrite } from "../../../src/formats/sector-write.js";
import { planLayout } from "../../../src/plan/planner.js";
import type { DiskPlan } from "../../../src/plan/types.js";
import {
  handGptDisk,
  nonZeroSectors,
  run,
  seededGuids,
  skipUnless,
  sparseFile,
  tempDir,
} from "./table-tools.js";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const SEED = "gpt-test";
const LINUX = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649";

function plannedDisk(config: string): DiskPlan {
  const file = join(REPO_ROOT, config);
  const imageSize = /^#\s*image-size:\s*(\S+)/m.exec(readFileSync(file, "utf8"))?.[1] ?? "4GiB";
  const disk = planLayout(loadConfig(file).model, { imageSize }).disks.find((d) => d.label === "gpt");
  assert.ok(disk, `${config} plans no GPT disk`);
  return disk;
}

const UNICODE_NAMES: [string, number, string, boolean][] = [
  ["bios", 2048, BIOS_BOOT, false],
  ["Wurzel-äöü€", 20480, LINUX, true],
  ["日本語のパーティション", 2048, LINUX, false],
  ["emoji-😀-name", 2048, LINUX, false],
  // 36 code units exactly, then one that sgdisk and we cut to 36.
  ["abcdefghijklmnopqrstuvwxyz0123456789", 2048, ESP, false],
  ["abcdefghijklmnopqrstuvwxyz0123456789-cut", 2048, LINUX, false],
];

const LAYOUTS: { title: string; disk: () => DiskPlan }[] = [
  { title: "examples/uefi-gpt.yaml", disk: () => plannedDisk("examples/uefi-gpt.yaml") },
  { title: "12 partitions", disk: () => plannedDisk("test/differential/configs/gpt-many-partitions.yaml") },
  { title: "odd sizes", disk: () => plannedDisk("test/differential/configs/gpt-odd-sizes.yaml") },
  {
    title: "BIOS boot + root with boot flag",
    disk: () => plannedDisk("test/differential/configs/gpt-bios-root.yaml"),
  },
  { title: "non-ASCII and 36-unit names, boot flag", disk: () => handGptDisk(512, 204800, UNICODE_NAMES) },
  {
    title: "a full entry array (128 partitions)",
    disk: () =>
      handGptDisk(
        512,
        2 * 2048 + 128 * 8,
        Array.from(
          { length: 128 },
          (_, i) => [`p${i + 1}`, 8, LINUX, i % 7 === 0] as [string, number, string, boolean],
        ),
      ),
  },
];

interface SfdiskGpt {
  label: string;
  id: string;
  firstlba: number;
  lastlba: number;
  partitions: {
    node: string;
    start: number;
    size: number;
    type: string;
    uuid: string;
    name?: string;
    attrs?: string;
  }[];
}

/** The name as stored: sgdisk and we keep at most 36 UTF-16 units. */
function storedName(name: string): string {
  return encodeGptName(name).toString("utf16le");
}

describe("writeGpt against sgdisk and sfdisk", () => {
  const skip = skipUnless("sfdisk", "sgdisk");
  const dir = tempDir("blocksmith-gpt-");
  after(dir.remove);

  LAYOUTS.forEach(({ title, disk: makeDisk }, index) => {
    it(
      `${title}: sgdisk verifies it, sfdisk reads back the plan, and the bytes equal sgdisk's`,
      { skip },
      () => {
        const disk = makeDisk();
        const ids = seededGuids(SEED, disk);
        const ours = sparseFile(join(dir.path, `${index}.ours`), disk.sizeBytes, writeGpt(disk, ids));

        assert.match(run(["sgdisk", "-v", ours]), /No problems found/);

        const table = JSON.parse(run(["sfdisk", "-J", ours])).partitiontable as SfdiskGpt;
        assert.equal(table.label, "gpt");
        assert.equal(table.id, ids.diskGuid.toUpperCase());
        assert.equal(table.firstlba, disk.firstUsableSector);
        assert.equal(table.lastlba, disk.lastUsableSector);
        assert.deepEqual(
          table.partitions.map((p) => ({
            number: Number(/(\d+)$/.exec(p.node)![1]),
            start: p.start,
            size: p.size,
            type: p.type,
            uuid: p.uuid,
            name: p.name ?? "",
            boot: p.attrs === "LegacyBIOSBootable",
          })),
          disk.partitions.map((p, i) => ({
            number: p.number,
            start: p.startSector,
            size: p.sizeSectors,
            type: p.type,
            uuid: ids.partitionGuids[i]!.toUpperCase(),
            name: storedName(p.gptName ?? p.name),
            boot: p.flags.includes("boot"),
          })),
        );

        // Byte identity: the same table made by sgdisk with explicit sectors, GUIDs, names and attributes.
        const argv = ["sgdisk", "-a", "1", "-U", ids.diskGuid];
        disk.partitions.forEach((p, i) => {
          const n = p.number;
          argv.push(
            "-n",
            `${n}:${p.startSector}:${p.startSector + p.sizeSectors - 1}`,
            "-t",
            `${n}:${p.type}`,
          );
          argv.push("-c", `${n}:${p.gptName ?? p.name}`, "-u", `${n}:${ids.partitionGuids[i]}`);
          if (p.flags.includes("boot")) argv.push("-A", `${n}:set:2`);
        });
        const theirs = sparseFile(join(dir.path, `${index}.sgdisk`), disk.sizeBytes);
        run([...argv, theirs]);
        // Protective MBR, both headers, both entry arrays, and nothing else: every non-zero sector equal.
        assert.deepEqual(nonZeroSectors(ours), nonZeroSectors(theirs));

        for (const p of disk.partitions.filter((q) => q.flags.includes("boot"))) {
          assert.match(run(["sgdisk", "-i", String(p.number), ours]), /Attribute flags: 0000000000000004/);
        }
      },
    );
  });

  it(
    "4096-byte sectors: fdisk -b 4096 reads back the plan without complaint",
    { skip: skipUnless("fdisk") },
    () => {
      // sgdisk takes the sector size from the device, and an image file is always 512 to it; only a
      // loop device with --sector-size 4096 (root) would let it write such a table, so fdisk reads ours.
      const disk = handGptDisk(4096, 65536, [
        ["esp", 2048, ESP, false],
        ["rööt", 20480, LINUX, true],
        ["data", 4096, LINUX, false],
      ]);
      const ids = seededGuids(SEED, disk);
      const writes = writeGpt(disk, ids);
      assert.deepEqual(
        writes.map((w) => [w.offsetBytes / 4096, w.data.length]),
        [
          [0, 512],
          [1, 4096],
          [2, GPT_ENTRY_ARRAY_BYTES],
          [65536 - 5, GPT_ENTRY_ARRAY_BYTES],
          [65535, 4096],
        ],
      );
      assert.equal(disk.firstUsableSector, 6);
      const file = sparseFile(join(dir.path, "4k.ours"), disk.sizeBytes, writes);
      const result = run([
        "fdisk",
        "-b",
        "4096",
        "-x",
        "-o",
        "Device,Start,Sectors,Type-UUID,UUID,Attrs,Name",
        file,
      ]);
      assert.doesNotMatch(result, /corrupt|invalid|mismatch|warning/i);
      assert.match(result, /Sector size \(logical\/physical\): 4096 bytes/);
      assert.match(result, new RegExp(`Disk identifier: ${ids.diskGuid.toUpperCase()}`));
      assert.match(result, /First usable LBA: 6\n/);
      assert.match(
        result,
        /Last usable LBA: 65530\nAlternative LBA: 65535\nPartition entries starting LBA: 2\n/,
      );
      disk.partitions.forEach((p, i) => {
        const boot = p.flags.includes("boot") ? "LegacyBIOSBootable" : "";
        const pattern = [
          `${file}${p.number}`,
          p.startSector,
          p.sizeSectors,
          p.type,
          ids.partitionGuids[i]!.toUpperCase(),
        ]
          .map(String)
          .join("\\s+");
        assert.match(result, new RegExp(`${pattern}\\s+${boot}\\s*${p.name}`));
      });
    },
  );
});

describe("GUIDs and names", () => {
  it("stores GUIDs mixed-endian: the first three fields little-endian", () => {
    assert.equal(
      encodeGuid("C12A7328-F81F-11D2-BA4B-00A0C93EC93B").toString("hex"),
      "28732ac11ff8d211ba4b00a0c93ec93b",
    );
    assert.equal(decodeGuid(encodeGuid("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")), ESP);
  });
  it("cuts names to 36 UTF-16 units without splitting a surrogate pair", () => {
    assert.equal(encodeGptName("x".repeat(40)).length, 72);
    assert.equal(encodeGptName("x".repeat(35) + "😀").toString("utf16le"), "x".repeat(35));
    assert.equal(encodeGptName("x".repeat(34) + "😀").toString("utf16le"), "x".repeat(34) + "😀");
  });
  it("refuses plans that leave the usable area or reuse an entry", () => {
    const disk = handGptDisk(512, 8192, [["a", 2048, LINUX, false]]);
    const ids = seededGuids(SEED, disk);
    assert.throws(
      () => writeGpt({ ...disk, partitions: [{ ...disk.partitions[0]!, sizeSectors: 8192 }] }, ids),
      /usable/,
    );
    const twice = { ...disk, partitions: [disk.partitions[0]!, { ...disk.partitions[0]!, name: "b" }] };
    assert.throws(
      () => writeGpt(twice, { ...ids, partitionGuids: [...ids.partitionGuids, ids.diskGuid] }),
      /number 1/,
    );
  });
});

/** Parses and checks a GPT from writes alone: both headers' CRCs, the entry CRC, and the cross links. */
function checkGptWrites(writes: SectorWrite[], sectorSize: number, totalSectors: number): void {
  const at = (lba: number): Buffer => {
    const write = writes.find((w) => w.offsetBytes === lba * sectorSize);
    assert.ok(write, `nothing written at LBA ${lba}`);
    return write.data;
  };
  const primary = at(1);
  const backup = at(totalSectors - 1);
  for (const [header, self, other] of [
    [primary, 1, totalSectors - 1],
    [backup, totalSectors - 1, 1],
  ] as const) {
    assert.equal(header.subarray(0, 8).toString("ascii"), "EFI PART");
    const copy = Buffer.from(header.subarray(0, 92));
    copy.writeUInt32LE(0, 16);
    assert.equal(header.readUInt32LE(16), crc32(copy));
    assert.equal(Number(header.readBigUInt64LE(24)), self);
    assert.equal(Number(header.readBigUInt64LE(32)), other);
    const entries = at(Number(header.readBigUInt64LE(72)));
    assert.equal(header.readUInt32LE(88), crc32(entries.subarray(0, GPT_ENTRY_ARRAY_BYTES)));
    assert.ok(header.subarray(92).every((byte) => byte === 0));
  }
  assert.deepEqual(primary.subarray(40, 72), backup.subarray(40, 72));
}

describe("writeGpt properties", () => {
  it("writes inside the disk, never overlapping, with CRCs that verify", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(512, 4096),
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 100_000 }), fc.boolean()),
          {
            maxLength: 128,
          },
        ),
        fc.integer({ min: 1, max: 100_000 }),
        fc.string({ maxLength: 50 }),
        (sectorSize, parts, tail, name) => {
          const first = sectorSize === 512 ? 34 : 6;
          let next = first;
          const layout: [string, number, string, boolean][] = [];
          const starts: number[] = [];
          for (const [gap, size, boot] of parts) {
            starts.push(next + gap);
            next += gap + size;
            layout.push([`${name}${layout.length}`, size, LINUX, boot]);
          }
          const totalSectors = next + tail + 1 + Math.ceil(GPT_ENTRY_ARRAY_BYTES / sectorSize);
          const disk = handGptDisk(sectorSize, totalSectors, layout);
          disk.partitions.forEach((p, i) => (p.startSector = starts[i]!));
          const writes = writeGpt(disk, seededGuids(SEED, disk));
          const spans = writes
            .map((w) => [w.offsetBytes, w.offsetBytes + w.data.length] as const)
            .sort((a, b) => a[0] - b[0]);
          spans.forEach(([start, end], i) => {
            assert.ok(start >= 0 && end <= disk.sizeBytes);
            if (i > 0) assert.ok(start >= spans[i - 1]![1]);
          });
          checkGptWrites(writes, sectorSize, totalSectors);
        },
      ),
      { numRuns: 60 },
    );
  });
});
