import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { hybridMbrType, writeGpt, writeHybridMbr } from "../../../src/formats/gpt.js";
import { GPT_TYPE_CODES } from "../../../src/formats/gpt-types.js";
import type { DiskPlan } from "../../../src/plan/types.js";
import {
  handGptDisk,
  nonZeroSectors,
  run,
  sectorsOfWrites,
  seededGuids,
  skipUnless,
  sparseFile,
  tempDir,
} from "./table-tools.js";

const SEED = "hybrid-mbr-test";
const guidOf = (code: string) => GPT_TYPE_CODES.find((entry) => entry.code === code.toLowerCase())!.guid;

/** A 512-byte-sector GPT disk: partitions back to back from 1 MiB, each `[name, sizeSectors, code, boot]`. */
function gptDisk(
  totalSectors: number,
  parts: [string, number, string, boolean][],
  hybrid: number[],
): DiskPlan {
  const disk = handGptDisk(
    512,
    totalSectors,
    parts.map(([name, size, code, boot]) => [name, size, code.includes("-") ? code : guidOf(code), boot]),
  );
  disk.partitions.forEach((partition, index) => (partition.typeCode = parts[index]![2]));
  return { ...disk, hybridMbr: hybrid };
}

/** The same GPT made by sgdisk, as gpt.test.ts does it: explicit sectors, GUIDs, names, attributes. */
function sgdiskGpt(path: string, disk: DiskPlan): string {
  const ids = seededGuids(SEED, disk);
  const argv = ["sgdisk", "-a", "1", "-U", ids.diskGuid];
  disk.partitions.forEach((p, i) => {
    const n = p.number;
    argv.push("-n", `${n}:${p.startSector}:${p.startSector + p.sizeSectors - 1}`, "-t", `${n}:${p.type}`);
    argv.push("-c", `${n}:${p.gptName ?? p.name}`, "-u", `${n}:${ids.partitionGuids[i]}`);
    if (p.flags.includes("boot")) argv.push("-A", `${n}:set:2`);
  });
  run([...argv, sparseFile(path, disk.sizeBytes)]);
  return path;
}

/**
 * The hybrid MBR by gdisk's interactive `r`/`h` (the only way to get the active flag from gdisk):
 * 0xEE first, the default (sgdisk-derived) type for each, bootable as the plan says, no extra entries.
 */
function gdiskHybrid(path: string, disk: DiskPlan): void {
  const numbers = disk.hybridMbr!;
  const answers = ["r", "h", numbers.join(" "), "Y"];
  for (const number of numbers) {
    const partition = disk.partitions.find((p) => p.number === number)!;
    answers.push("", partition.flags.includes("boot") ? "Y" : "N");
  }
  // "Use one to protect more partitions?" only comes up when the 4th slot is free.
  if (numbers.length < 3) answers.push("N");
  answers.push("w", "Y");
  run(["gdisk", path], `${answers.join("\n")}\n`);
}

interface MbrRow {
  boot: boolean;
  start: number;
  sectors: number;
  id: string;
}

/** util-linux's reading of the MBR alone (`-t dos` ignores the GPT behind it). */
function fdiskDos(path: string): MbrRow[] {
  const out = run(["fdisk", "-l", "-t", "dos", "-o", "Device,Boot,Start,Sectors,Id", path]);
  return out
    .split("\n")
    .filter((line) => line.startsWith(path))
    .map((line) => {
      const fields = line.slice(path.length).trim().split(/\s+/);
      const boot = fields[1] === "*";
      const [start, sectors, id] = fields.slice(boot ? 2 : 1);
      return { boot, start: Number(start), sectors: Number(sectors), id: id! };
    });
}

const CASES: { title: string; disk: () => DiskPlan }[] = [
  {
    title: "ESP, root and data (EF00, 8300, 0700)",
    disk: () =>
      gptDisk(
        262144,
        [
          ["bios", 2048, "EF02", false],
          ["esp", 20480, "EF00", false],
          ["root", 81920, "8300", false],
          ["data", 40960, "0700", false],
          ["swap", 8192, "8200", false],
        ],
        [2, 3, 4],
      ),
  },
  {
    title: "out of order, BIOS boot and swap",
    disk: () =>
      gptDisk(
        131072,
        [
          ["bios", 2048, "EF02", false],
          ["root", 40960, "8300", false],
          ["swap", 8192, "8200", false],
        ],
        [3, 1],
      ),
  },
  {
    title: "one partition high on the disk, a GUID sgdisk has no code for",
    disk: () =>
      gptDisk(
        131072,
        [
          ["bios", 2048, "EF02", false],
          ["odd", 4096, "12345678-1234-1234-1234-123456789ABC", false],
          ["reserved", 4096, "0C01", false],
        ],
        [3, 2],
      ),
  },
];

const BOOT_CASES: { title: string; disk: () => DiskPlan }[] = [
  {
    title: "boot flag on root",
    disk: () =>
      gptDisk(
        131072,
        [
          ["esp", 20480, "EF00", false],
          ["root", 40960, "8300", true],
        ],
        [1, 2],
      ),
  },
  {
    title: "boot flag on the only mirrored partition",
    disk: () =>
      gptDisk(
        131072,
        [
          ["bios", 2048, "EF02", false],
          ["boot", 4096, "EA00", true],
          ["root", 40960, "8E00", false],
        ],
        [2],
      ),
  },
];

describe("writeHybridMbr against sgdisk -h and gdisk", () => {
  // gdisk comes in the same package as sgdisk.
  const skip = skipUnless("sgdisk", "fdisk");
  const dir = tempDir("blocksmith-hybrid-");
  after(dir.remove);

  CASES.forEach(({ title, disk: makeDisk }, index) => {
    it(`${title}: every sector equals sgdisk -h's, fdisk -t dos reads the entries`, { skip }, () => {
      const disk = makeDisk();
      const writes = writeGpt(disk, seededGuids(SEED, disk));
      const theirs = sgdiskGpt(join(dir.path, `${index}.sgdisk`), disk);
      run(["sgdisk", "-h", disk.hybridMbr!.join(":"), theirs]);
      // sgdisk -h rewrites sector 0 only; the GPT around it stays as writeGpt makes it.
      assert.deepEqual(sectorsOfWrites(writes), nonZeroSectors(theirs));
      assert.equal(writes[0]!.data.toString("hex"), readFileSync(theirs).subarray(0, 512).toString("hex"));

      const ours = sparseFile(join(dir.path, `${index}.ours`), disk.sizeBytes, writes);
      const mirrored = disk.hybridMbr!.map((n) => disk.partitions.find((p) => p.number === n)!);
      const firstStart = Math.min(...mirrored.map((p) => p.startSector));
      assert.deepEqual(fdiskDos(ours), [
        { boot: false, start: 1, sectors: firstStart - 1, id: "ee" },
        ...mirrored.map((p) => ({
          boot: false,
          start: p.startSector,
          sectors: p.sizeSectors,
          id: hybridMbrType(p.type).toString(16),
        })),
      ]);
      assert.match(run(["sgdisk", "-v", ours]), /No problems found/);
    });
  });

  BOOT_CASES.forEach(({ title, disk: makeDisk }, index) => {
    it(`${title}: equals gdisk's hybrid MBR with the bootable flag answered`, { skip }, () => {
      const disk = makeDisk();
      const writes = writeGpt(disk, seededGuids(SEED, disk));
      const theirs = sgdiskGpt(join(dir.path, `boot${index}.gdisk`), disk);
      const plain = join(dir.path, `boot${index}.sgdisk`);
      copyFileSync(theirs, plain);
      gdiskHybrid(theirs, disk);
      run(["sgdisk", "-h", disk.hybridMbr!.join(":"), plain]);
      assert.deepEqual(sectorsOfWrites(writes), nonZeroSectors(theirs));

      // sgdisk -h differs only in the status byte: it never marks an entry active.
      const ours = writes[0]!.data;
      const sgdiskSector = readFileSync(plain).subarray(0, 512);
      const differing = [...ours.keys()].filter((i) => ours[i] !== sgdiskSector[i]);
      const bootSlots = disk.hybridMbr!.flatMap((n, slot) =>
        disk.partitions.find((p) => p.number === n)!.flags.includes("boot") ? [446 + 16 * (slot + 1)] : [],
      );
      assert.deepEqual(differing, bootSlots);
      assert.ok(bootSlots.every((at) => ours[at] === 0x80));

      const file = sparseFile(join(dir.path, `boot${index}.ours`), disk.sizeBytes, writes);
      assert.deepEqual(
        fdiskDos(file).map((row) => row.boot),
        [false, ...disk.hybridMbr!.map((n) => disk.partitions[n - 1]!.flags.includes("boot"))],
      );
    });
  });
});

describe("writeHybridMbr refusals", () => {
  it("refuses partitions past 2^32 sectors, unknown numbers and duplicates", () => {
    const big = gptDisk(2 ** 32 + 2 ** 20, [["huge", 2 ** 32, "8300", false]], [1]);
    assert.throws(() => writeHybridMbr(big), /too big/);
    const disk = gptDisk(131072, [["root", 4096, "8300", false]], [2]);
    assert.throws(() => writeHybridMbr(disk), /partition 2, which is not planned/);
    assert.throws(() => writeHybridMbr({ ...disk, hybridMbr: [1, 1] }), /twice/);
    assert.throws(() => writeHybridMbr({ ...disk, hybridMbr: [] }), /1 to 3/);
  });

  it("writeGpt keeps the plain protective MBR without hybridMbr", () => {
    const disk = gptDisk(131072, [["root", 4096, "8300", true]], [1]);
    const { hybridMbr: _hybrid, ...plain } = disk;
    const sector = writeGpt(plain, seededGuids(SEED, plain))[0]!.data;
    assert.equal(sector[446 + 4], 0xee);
    assert.equal(sector[446 + 16 + 4], 0);
  });
});
