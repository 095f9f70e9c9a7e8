/**
 * GPT layout: exactly where the partitions land when DIB's `partitioning.py:_create_gpt` runs
 * `sgdisk IMAGE -n N:0:+{MiB}M -t N:TYPE -c N:NAME …` (checked against gdisk 1.0.9). Where that command
 * fails or writes something unintended, we refuse with a LayoutProblem ("Differs from DIB" below).
 */
import { LayoutProblem } from "../../../core/errors.js";
import { alignmentSectors } from "./alignment.js";
import { checkSizeSyntax, formatBytes, parseRelativeSize, SIZE_HINT } from "../../../core/size.js";
import type { PartitionPlan } from "../../../plan/types.js";
import { DEFAULT_GPT_TYPE_CODE, resolveGptType } from "../../../formats/gpt-types.js";

export interface GptPartitionRequest {
  name: string;
  size: string;
  /** sgdisk code ("8300", "ef00") or type GUID, as the config writes it. */
  type?: string;
  boot: boolean;
}

export interface GptLayoutInput {
  diskSizeBytes: number;
  sectorSize: number;
  alignBytes: number;
  partitions: GptPartitionRequest[];
}

export interface GptLayout {
  partitions: PartitionPlan[];
  firstUsableSector: number;
  lastUsableSector: number;
}

const MIB = 1024 * 1024;
/** DIB keeps this much of the disk out of its size math "for rounding". */
const DIB_RESERVE_BYTES = 2 * MIB;
/** sgdisk's default table: 128 entries of 128 bytes. */
const GPT_ENTRY_COUNT = 128;
const GPT_ENTRY_BYTES = 128;
/** sgdisk stores at most 36 UTF-16 code units of a name. */
const GPT_NAME_UNITS = 36;

/**
 * Lays out a GPT like DIB's sgdisk call. sgdisk puts each `-n N:0:+SIZE` partition at the first sector
 * of the largest free block, aligned up, and ends it at start + SIZE - 1. We place each partition right
 * after the previous one, aligned up: the same thing, because DIB's 2 MiB reserve keeps the tail block at
 * least one sector larger than the gap before the first partition whenever the alignment is at most 1 MiB
 * (sgdisk's default, which DIB never changes; DIB ignores `align` for GPT, so pass 1 MiB for parity).
 */
export function layoutGpt(input: GptLayoutInput): GptLayout {
  const { diskSizeBytes, sectorSize, partitions } = input;
  const alignSectors = checkGeometry(input);
  // sgdisk ignores a partial last sector.
  const totalSectors = Math.floor(diskSizeBytes / sectorSize);
  // Protective MBR, header, then the entry array; the backup array and header mirror them at the end.
  const firstUsableSector = 2 + Math.ceil((GPT_ENTRY_COUNT * GPT_ENTRY_BYTES) / sectorSize);
  const lastUsableSector = totalSectors - firstUsableSector;
  if (lastUsableSector < firstUsableSector) {
    throw new LayoutProblem(
      `a ${formatBytes(diskSizeBytes)} disk is too small for a GPT (${firstUsableSector * 2} sectors of tables alone)`,
      undefined,
      "size",
      "grow the disk",
    );
  }
  if (partitions.length > GPT_ENTRY_COUNT) {
    // sgdisk fails with "Could not create partition 129".
    throw new LayoutProblem(
      `${partitions.length} partitions do not fit in a GPT of ${GPT_ENTRY_COUNT} entries`,
      GPT_ENTRY_COUNT,
      "name",
      `use at most ${GPT_ENTRY_COUNT} partitions`,
    );
  }

  const plans: PartitionPlan[] = [];
  let diskFreeBytes = diskSizeBytes - DIB_RESERVE_BYTES;
  let nextFree = firstUsableSector;
  partitions.forEach((request, index) => {
    const typeCode = request.type ?? DEFAULT_GPT_TYPE_CODE;
    const type = resolveGptType(typeCode);
    // Differs from DIB: sgdisk silently writes "Linux filesystem" for hex codes it does not know.
    if (!type.ok) throw new LayoutProblem(type.error, index, "type", "run `sgdisk -L` for the list of codes");

    const sizeBytes = resolveSize(request, diskFreeBytes, index);
    // DIB hands sgdisk whole MiB, rounded down.
    const sizeMiB = Math.floor(sizeBytes / MIB);
    if (sizeMiB < 1) {
      // Differs from DIB: DIB writes "+0M", which sgdisk takes as "up to the end of the free block",
      // so the partition silently grows to the rest of the disk.
      throw new LayoutProblem(
        `partition "${request.name}" is ${formatBytes(sizeBytes)}; DIB gives sgdisk whole MiB, and "+0M" would make it fill the rest of the disk`,
        index,
        "size",
        'give at least "1MiB", or "100%" if it should fill the rest of the disk',
      );
    }
    const startSector = Math.ceil(nextFree / alignSectors) * alignSectors;
    const sizeSectors = (sizeMiB * MIB) / sectorSize;
    const endSector = startSector + sizeSectors - 1;
    // Unreachable through DIB's size math (the 2 MiB reserve), but kept for odd geometries. sgdisk does
    // not shrink such a partition: it fails with "Could not create partition N from S to E", exit code 4.
    if (endSector > lastUsableSector) {
      const excessBytes = (endSector - lastUsableSector) * sectorSize;
      throw new LayoutProblem(
        `partition "${request.name}" would end at sector ${endSector}, ${excessBytes} bytes past the last usable sector ${lastUsableSector}`,
        index,
        "size",
        `shrink it or an earlier partition by at least ${excessBytes} bytes, or grow the disk`,
      );
    }
    plans.push({
      name: request.name,
      number: index + 1,
      role: "gpt",
      startSector,
      sizeSectors,
      startBytes: startSector * sectorSize,
      sizeBytes: sizeSectors * sectorSize,
      type: type.guid,
      typeCode,
      // DIB ignores `boot` for GPT. We keep it in the plan; the GPT counterpart of the MBR boot flag is
      // attribute bit 2, "legacy BIOS bootable" (`sgdisk -A N:set:2`).
      flags: request.boot ? ["boot"] : [],
      gptName: sgdiskPartitionName(request.name),
    });
    nextFree = endSector + 1;
    diskFreeBytes -= sizeBytes;
  });
  return { partitions: plans, firstUsableSector, lastUsableSector };
}

/**
 * The name sgdisk stores for `-c N:NAME`: it splits its argument at colons, so the name ends at the first
 * ":", and it keeps at most 36 UTF-16 code units, dropping a character that would be split in half.
 */
export function sgdiskPartitionName(name: string): string {
  let kept = "";
  for (const character of name.split(":")[0] ?? "") {
    if (kept.length + character.length > GPT_NAME_UNITS) break;
    kept += character;
  }
  return kept;
}

function checkGeometry({ sectorSize, diskSizeBytes, alignBytes }: GptLayoutInput): number {
  // Sizes go to sgdisk in MiB, so a sector must divide a MiB.
  if (!Number.isSafeInteger(sectorSize) || sectorSize < 512 || sectorSize > MIB || MIB % sectorSize !== 0) {
    throw new LayoutProblem(
      `sector size ${sectorSize} is not a power of two from 512 bytes to 1 MiB`,
      undefined,
      undefined,
      "use the disk's logical sector size, 512 or 4096",
    );
  }
  if (!Number.isSafeInteger(diskSizeBytes) || diskSizeBytes <= 0) {
    throw new LayoutProblem(
      `disk size ${diskSizeBytes} is not a positive whole number of bytes`,
      undefined,
      "size",
      "give the disk a size",
    );
  }
  return alignmentSectors(alignBytes, sectorSize);
}

function resolveSize(request: GptPartitionRequest, diskFreeBytes: number, index: number): number {
  const syntaxError = checkSizeSyntax(request.size, true);
  if (syntaxError !== undefined) throw new LayoutProblem(syntaxError, index, "size", SIZE_HINT);
  const size = parseRelativeSize(request.size, diskFreeBytes);
  if (size.relative && Number.parseFloat(request.size.slice(0, -1)) > 100) {
    // DIB fails its `assert size <= disk_free`.
    throw new LayoutProblem(
      `size "${request.size}" is more than 100% of the space left`,
      index,
      "size",
      'use at most "100%"',
    );
  }
  if (size.relative && diskFreeBytes <= 0) {
    throw new LayoutProblem(
      `no space left for partition "${request.name}": DIB keeps the last 2 MiB of a GPT disk free`,
      index,
      "size",
      "shrink the earlier partitions or grow the disk",
    );
  }
  if (size.bytes > diskFreeBytes) {
    // DIB fails its `assert size <= disk_free` (disk_free: the disk less 2 MiB, less earlier partitions).
    const excessBytes = size.bytes - diskFreeBytes;
    throw new LayoutProblem(
      `partition "${request.name}" does not fit: its ${formatBytes(size.bytes)} exceed the ${formatBytes(Math.max(0, diskFreeBytes))} left (DIB keeps 2 MiB of a GPT disk free) by ${excessBytes} bytes`,
      index,
      "size",
      `shrink it or an earlier partition by at least ${excessBytes} bytes, or grow the disk`,
    );
  }
  return size.bytes;
}
