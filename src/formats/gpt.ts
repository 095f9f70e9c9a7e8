/**
 * GUID partition tables (UEFI spec §5.3) as sgdisk writes them: protective MBR, primary header at
 * LBA 1, a 128-entry array at LBA 2, and the backup array and header at the end of the disk.
 */
import { GPT_TYPE_CODES } from "./gpt-types.js";
import type { DiskPlan, PartitionPlan } from "../plan/types.js";
import { crc32 } from "./crc32.js";
import { parseUuid } from "./identifiers.js";
import { writeHybridMbrSector, writeProtectiveMbr } from "./mbr.js";
import type { SectorWrite } from "./sector-write.js";

export const GPT_ENTRY_COUNT = 128;
export const GPT_ENTRY_BYTES = 128;
export const GPT_ENTRY_ARRAY_BYTES = GPT_ENTRY_COUNT * GPT_ENTRY_BYTES;
export const GPT_HEADER_BYTES = 92;
/** UTF-16 code units a partition name can hold (72 bytes). */
export const GPT_NAME_UNITS = 36;
const SIGNATURE = Buffer.from("EFI PART", "ascii");
const REVISION_1_0 = 0x00010000;
/** UEFI "legacy BIOS bootable" (bit 2): what syslinux/gptmbr and DIB's "boot" flag mean on GPT. */
export const LEGACY_BIOS_BOOTABLE = 1n << 2n;

export interface GptOptions {
  diskGuid: string;
  /** One per `disk.partitions` entry, same order. */
  partitionGuids: string[];
}

/** GUID text → the on-disk form: the first three fields little-endian, the last two as written. */
export function encodeGuid(text: string): Buffer {
  const bytes = parseUuid(text);
  bytes.subarray(0, 4).reverse();
  bytes.subarray(4, 6).reverse();
  bytes.subarray(6, 8).reverse();
  return bytes;
}

/** The on-disk form → upper-case GUID text (how sgdisk and the plan print them). */
export function decodeGuid(bytes: Uint8Array): string {
  const copy = Buffer.from(bytes.subarray(0, 16));
  copy.subarray(0, 4).reverse();
  copy.subarray(4, 6).reverse();
  copy.subarray(6, 8).reverse();
  const hex = copy.toString("hex").toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A name as UTF-16LE, cut to 36 code units (sgdisk cuts too); a surrogate pair that would be split
 * by the cut is dropped whole rather than leaving half a character.
 */
export function encodeGptName(name: string): Buffer {
  let units = 0;
  let kept = "";
  for (const character of name) {
    if (units + character.length > GPT_NAME_UNITS) break;
    kept += character;
    units += character.length;
  }
  return Buffer.from(kept, "utf16le");
}

/** Where each structure lives on a disk of `totalSectors` sectors of `sectorSize` bytes. */
export interface GptGeometry {
  sectorSize: number;
  totalSectors: number;
  entryArraySectors: number;
  primaryEntriesLba: number;
  backupEntriesLba: number;
  backupHeaderLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
}

export function gptGeometry(totalSectors: number, sectorSize: number): GptGeometry {
  if (sectorSize !== 512 && sectorSize !== 4096) {
    throw new RangeError(`sector size ${sectorSize} is not supported (512 or 4096)`);
  }
  // The entry array starts at LBA 2 whatever the sector size: 32 sectors of 512, 4 of 4096.
  const entryArraySectors = Math.ceil(GPT_ENTRY_ARRAY_BYTES / sectorSize);
  const firstUsableLba = 2 + entryArraySectors;
  const backupHeaderLba = totalSectors - 1;
  const backupEntriesLba = backupHeaderLba - entryArraySectors;
  const lastUsableLba = backupEntriesLba - 1;
  if (!Number.isSafeInteger(totalSectors) || lastUsableLba < firstUsableLba) {
    throw new RangeError(`a disk of ${totalSectors} sectors of ${sectorSize} bytes is too small for a GPT`);
  }
  return {
    sectorSize,
    totalSectors,
    entryArraySectors,
    primaryEntriesLba: 2,
    backupEntriesLba,
    backupHeaderLba,
    firstUsableLba,
    lastUsableLba,
  };
}

function entryFor(partition: PartitionPlan, partitionGuid: string): Buffer {
  const entry = Buffer.alloc(GPT_ENTRY_BYTES);
  encodeGuid(partition.type).copy(entry, 0);
  encodeGuid(partitionGuid).copy(entry, 16);
  entry.writeBigUInt64LE(BigInt(partition.startSector), 32);
  // The last LBA is inclusive.
  entry.writeBigUInt64LE(BigInt(partition.startSector + partition.sizeSectors - 1), 40);
  entry.writeBigUInt64LE(partition.flags.includes("boot") ? LEGACY_BIOS_BOOTABLE : 0n, 48);
  encodeGptName(partition.gptName ?? partition.name).copy(entry, 56);
  return entry;
}

function header(
  geometry: GptGeometry,
  which: "primary" | "backup",
  diskGuid: Buffer,
  entryArrayCrc: number,
): Buffer {
  const sector = Buffer.alloc(geometry.sectorSize);
  const primary = which === "primary";
  SIGNATURE.copy(sector, 0);
  sector.writeUInt32LE(REVISION_1_0, 8);
  sector.writeUInt32LE(GPT_HEADER_BYTES, 12);
  // 16: header CRC, computed last over the 92 bytes with this field zero; 20: reserved.
  sector.writeBigUInt64LE(BigInt(primary ? 1 : geometry.backupHeaderLba), 24);
  sector.writeBigUInt64LE(BigInt(primary ? geometry.backupHeaderLba : 1), 32);
  sector.writeBigUInt64LE(BigInt(geometry.firstUsableLba), 40);
  sector.writeBigUInt64LE(BigInt(geometry.lastUsableLba), 48);
  diskGuid.copy(sector, 56);
  sector.writeBigUInt64LE(BigInt(primary ? geometry.primaryEntriesLba : geometry.backupEntriesLba), 72);
  sector.writeUInt32LE(GPT_ENTRY_COUNT, 80);
  sector.writeUInt32LE(GPT_ENTRY_BYTES, 84);
  sector.writeUInt32LE(entryArrayCrc, 88);
  sector.writeUInt32LE(crc32(sector.subarray(0, GPT_HEADER_BYTES)), 16);
  return sector;
}

/**
 * Protective MBR (hybrid when `disk.hybridMbr` is set), primary header and entries, backup entries and
 * header: five writes, everything else on the disk untouched. Entry `number − 1` holds partition `number`; the "boot" flag sets the
 * legacy-BIOS-bootable attribute.
 */
export function writeGpt(disk: DiskPlan, options: GptOptions): SectorWrite[] {
  if (disk.sizeBytes % disk.sectorSize !== 0) {
    throw new RangeError(`disk ${disk.name}: ${disk.sizeBytes} bytes is not a whole number of sectors`);
  }
  const geometry = gptGeometry(disk.sizeBytes / disk.sectorSize, disk.sectorSize);
  for (const [planned, computed, what] of [
    [disk.firstUsableSector, geometry.firstUsableLba, "first"],
    [disk.lastUsableSector, geometry.lastUsableLba, "last"],
  ] as const) {
    if (planned !== undefined && planned !== computed) {
      throw new RangeError(
        `disk ${disk.name}: the plan's ${what} usable sector ${planned} is not ${computed}`,
      );
    }
  }
  if (options.partitionGuids.length !== disk.partitions.length) {
    throw new RangeError(
      `disk ${disk.name}: ${disk.partitions.length} partitions but ${options.partitionGuids.length} GUIDs`,
    );
  }

  const entries = Buffer.alloc(geometry.entryArraySectors * geometry.sectorSize);
  const used = new Set<number>();
  disk.partitions.forEach((partition, index) => {
    const { number, startSector, sizeSectors, name } = partition;
    if (!Number.isInteger(number) || number < 1 || number > GPT_ENTRY_COUNT || used.has(number)) {
      throw new RangeError(`partition ${name}: number ${number} is not a free GPT entry (1 to 128)`);
    }
    used.add(number);
    if (
      sizeSectors < 1 ||
      startSector < geometry.firstUsableLba ||
      startSector + sizeSectors - 1 > geometry.lastUsableLba
    ) {
      throw new RangeError(
        `partition ${name}: sectors ${startSector}+${sizeSectors} leave the usable area ` +
          `${geometry.firstUsableLba}–${geometry.lastUsableLba}`,
      );
    }
    entryFor(partition, options.partitionGuids[index]!).copy(entries, (number - 1) * GPT_ENTRY_BYTES);
  });

  const entryArrayCrc = crc32(entries.subarray(0, GPT_ENTRY_ARRAY_BYTES));
  const diskGuid = encodeGuid(options.diskGuid);
  const sectorSize = geometry.sectorSize;
  return [
    disk.hybridMbr !== undefined && disk.hybridMbr.length > 0
      ? writeHybridMbr(disk)
      : writeProtectiveMbr(geometry.totalSectors, sectorSize),
    { offsetBytes: sectorSize, data: header(geometry, "primary", diskGuid, entryArrayCrc) },
    { offsetBytes: geometry.primaryEntriesLba * sectorSize, data: entries },
    { offsetBytes: geometry.backupEntriesLba * sectorSize, data: Buffer.from(entries) },
    {
      offsetBytes: geometry.backupHeaderLba * sectorSize,
      data: header(geometry, "backup", diskGuid, entryArrayCrc),
    },
  ];
}

/**
 * The MBR type sgdisk gives a mirrored partition: the high byte of its four-digit code for the type
 * GUID (EF00 and EF02 → 0xEF, 8300 → 0x83, 0700 → 0x07, 0C01 → 0x0C), 0xFF for a GUID it has no code
 * for. Every code in GPT_TYPE_CODES was checked against `sgdisk -h`.
 */
export function hybridMbrType(typeGuid: string): number {
  const entry = GPT_TYPE_CODES.find((code) => code.guid === typeGuid.toUpperCase());
  return entry === undefined ? 0xff : Number.parseInt(entry.code.slice(0, 2), 16);
}

/**
 * Sector 0 of a GPT disk with `hybrid-mbr`: sgdisk's `-h` layout for the partitions numbered in
 * `disk.hybridMbr` (0xEE first, then those in order), the "boot" flag marking an entry active.
 */
export function writeHybridMbr(disk: DiskPlan): SectorWrite {
  const numbers = disk.hybridMbr ?? [];
  const entries = numbers.map((number) => {
    const partition = disk.partitions.find((p) => p.number === number);
    if (!partition)
      throw new RangeError(`disk ${disk.name}: hybrid MBR names partition ${number}, which is not planned`);
    return {
      startLba: partition.startSector,
      lengthLba: partition.sizeSectors,
      type: hybridMbrType(partition.type),
      bootable: partition.flags.includes("boot"),
    };
  });
  if (new Set(numbers).size !== numbers.length)
    throw new RangeError(`disk ${disk.name}: hybrid MBR lists a partition twice (${numbers.join(", ")})`);
  return writeHybridMbrSector(disk.sizeBytes / disk.sectorSize, disk.sectorSize, entries);
}
