/**
 * MBR layout: sector for sector what diskimage-builder writes (`level1/mbr.py`, the `MBR` class, driven
 * by `partitioning.py:_create_mbr`), except where DIB writes a broken table or crashes; there we refuse
 * with a LayoutProblem. Each such difference is marked "Differs from DIB" below.
 */
import { LayoutProblem } from "../../../core/errors.js";
import { alignmentSectors } from "./alignment.js";
import { checkSizeSyntax, formatBytes, parseRelativeSize, SIZE_HINT } from "../../../core/size.js";
import type { PartitionPlan } from "../../../plan/types.js";

export interface PartitionRequest {
  name: string;
  size: string;
  primary: boolean;
  boot: boolean;
  /** Hex as the config writes it ("83", "0x83", "ef"); DIB reads it with `int(type, 16)`. */
  type?: string;
}

export interface MbrLayoutInput {
  diskSizeBytes: number;
  sectorSize: number;
  alignBytes: number;
  partitions: PartitionRequest[];
}

const MBR_SLOTS = 4;
const FIRST_LOGICAL_NUMBER = 5;
const DEFAULT_TYPE = { value: 0x83, code: "83" };
/** DIB marks its container with the LBA extended type. */
const EXTENDED_TYPE = { value: 0x0f, code: "0f" };
/** MBR and EBR entries hold 32-bit sector numbers. */
const MBR_SECTOR_LIMIT = 2 ** 32;
// Differs from DIB: these type bytes break the table itself. 0x00 marks an empty slot (partitioning
// tools and firmware treat the entry as free); the extended types make readers look for an EBR chain
// inside the partition.
const BROKEN_TYPES = new Map([
  [0x00, "marks an empty slot, so tools would treat the partition as free space"],
  [0x05, "is an extended container type, so readers would parse the data as an EBR chain"],
  [0x0f, "is an extended container type, so readers would parse the data as an EBR chain"],
  [0x85, "is an extended container type, so readers would parse the data as an EBR chain"],
]);
const TYPE_HINT = 'write the type byte in hex, e.g. "83" (Linux), "82" (swap), "8e" (LVM), "ef" (EFI)';

/** Lays out an MBR partition table the way DIB's `MBR` class does. Sizes and sectors are exact. */
export function layoutMbr(input: MbrLayoutInput): { partitions: PartitionPlan[] } {
  const { diskSizeBytes, sectorSize } = input;
  const alignSectors = checkGeometry(input);
  const diskSectors = diskSizeBytes / sectorSize;
  // DIB's `align()`: the next multiple of the alignment, a multiple stays as it is.
  const align = (sector: number): number => Math.ceil(sector / alignSectors) * alignSectors;
  const plans: PartitionPlan[] = [];
  const toPlan = (fields: Omit<PartitionPlan, "startBytes" | "sizeBytes">): PartitionPlan => ({
    ...fields,
    startBytes: fields.startSector * sectorSize,
    sizeBytes: fields.sizeSectors * sectorSize,
  });

  let nextFree = align(1);
  let usedSlots = 0;
  let logicals = 0;
  input.partitions.forEach((request, index) => {
    const type = parseMbrType(request.type, index);
    checkOrder(request, index, usedSlots, logicals);
    // DIB's `free()` always subtracts one alignment unit (room for an EBR), even for primaries.
    const freeBytes = diskSizeBytes - (nextFree + align(1)) * sectorSize;
    const size = resolveSize(request.size, freeBytes, index);

    if (!request.primary && logicals === 0) {
      // DIB writes the container into the next MBR slot, from the next free sector to the disk end.
      if (diskSectors > MBR_SECTOR_LIMIT) {
        throw new LayoutProblem(
          `the extended container for logical partitions would end at sector ${diskSectors}, past sector 2^32, the MBR limit (DIB would crash writing it)`,
          index,
          "flags",
          `use label "gpt", make all partitions primary (at most ${MBR_SLOTS}), or use a disk of at most ${formatBytes(MBR_SECTOR_LIMIT * sectorSize)}`,
        );
      }
      plans.push(
        toPlan({
          name: "extended",
          number: usedSlots + 1,
          role: "extended",
          startSector: nextFree,
          sizeSectors: diskSectors - nextFree,
          type: formatMbrType(EXTENDED_TYPE.value),
          typeCode: EXTENDED_TYPE.code,
          flags: [],
        }),
      );
    }

    // A logical's EBR takes the next free sector; its data starts one alignment unit later.
    const ebrSector = nextFree;
    const startSector = request.primary ? align(nextFree) : align(nextFree + 1);
    const sizeSectors = Math.floor(size.bytes / sectorSize);
    checkPlacement(request, index, size, freeBytes, startSector, sizeSectors, diskSectors, sectorSize);

    const flags = [...(request.boot ? ["boot"] : []), ...(request.primary ? ["primary"] : [])];
    const common = { name: request.name, startSector, sizeSectors, type: formatMbrType(type.value) };
    if (request.primary) {
      usedSlots += 1;
      plans.push(toPlan({ ...common, number: usedSlots, role: "primary", typeCode: type.code, flags }));
    } else {
      logicals += 1;
      const number = FIRST_LOGICAL_NUMBER + logicals - 1;
      plans.push(toPlan({ ...common, number, role: "logical", typeCode: type.code, flags, ebrSector }));
    }
    nextFree = align(startSector + sizeSectors);
  });
  return { partitions: plans };
}

/** `0x83` form: lower-case hex, two digits. */
export function formatMbrType(value: number): string {
  return `0x${value.toString(16).padStart(2, "0")}`;
}

function checkGeometry({ diskSizeBytes, sectorSize, alignBytes }: MbrLayoutInput): number {
  if (!Number.isSafeInteger(sectorSize) || sectorSize < 512 || !Number.isInteger(Math.log2(sectorSize))) {
    throw new LayoutProblem(
      `sector size ${sectorSize} is not a power of two of at least 512 bytes`,
      undefined,
      undefined,
      "use the disk's logical sector size, 512 or 4096",
    );
  }
  // DIB asserts this.
  if (!Number.isSafeInteger(diskSizeBytes) || diskSizeBytes <= 0 || diskSizeBytes % sectorSize !== 0) {
    throw new LayoutProblem(
      `disk size ${diskSizeBytes} is not a whole number of ${sectorSize}-byte sectors`,
      undefined,
      "size",
      `make the disk size a multiple of ${sectorSize} bytes`,
    );
  }
  return alignmentSectors(alignBytes, sectorSize);
}

function parseMbrType(written: string | undefined, index: number): { value: number; code: string } {
  if (written === undefined) return DEFAULT_TYPE;
  // Python's `int(type, 16)` also takes signs, blanks and "_" between digits; a type byte needs none.
  const digits = /^(?:0x)?([0-9a-f]+)$/i.exec(written)?.[1];
  if (digits === undefined) {
    throw new LayoutProblem(`MBR type "${written}" is not a hexadecimal number`, index, "type", TYPE_HINT);
  }
  const value = Number.parseInt(digits, 16);
  // Differs from DIB: DIB crashes (struct.error) on a type that does not fit in a byte.
  if (value > 0xff) {
    throw new LayoutProblem(`MBR type "${written}" does not fit in one byte`, index, "type", TYPE_HINT);
  }
  const broken = BROKEN_TYPES.get(value);
  if (broken !== undefined) {
    throw new LayoutProblem(`MBR type "${written}" ${broken}`, index, "type", TYPE_HINT);
  }
  return { value, code: written };
}

function checkOrder(request: PartitionRequest, index: number, usedSlots: number, logicals: number): void {
  const where = `partition "${request.name}"`;
  if (request.primary && logicals > 0) {
    // DIB raises "All primary partitions must be given first".
    throw new LayoutProblem(
      `${where} is primary but follows a logical partition; primary partitions must come first`,
      index,
      "flags",
      'move it before the first logical partition, or drop its "primary" flag',
    );
  }
  if (request.primary && usedSlots === MBR_SLOTS) {
    // Differs from DIB: DIB writes a 5th entry at byte 510, over the MBR boot signature.
    throw new LayoutProblem(
      `${where} would be the 5th primary partition; an MBR has ${MBR_SLOTS} slots`,
      index,
      "flags",
      `keep at most ${MBR_SLOTS} primaries (at most ${MBR_SLOTS - 1} when logical partitions follow); drop the "primary" flag from the rest`,
    );
  }
  if (!request.primary && logicals === 0 && usedSlots === MBR_SLOTS) {
    // Differs from DIB: DIB writes the extended container entry at byte 510, over the boot signature.
    throw new LayoutProblem(
      `${where} is logical, but all ${MBR_SLOTS} MBR slots hold primaries and the extended container needs one`,
      index,
      "flags",
      `mark at most ${MBR_SLOTS - 1} partitions "primary" when logical partitions follow`,
    );
  }
}

function resolveSize(spec: string, freeBytes: number, index: number): { bytes: number; relative: boolean } {
  const syntaxError = checkSizeSyntax(spec, true);
  if (syntaxError !== undefined) throw new LayoutProblem(syntaxError, index, "size", SIZE_HINT);
  const size = parseRelativeSize(spec, freeBytes);
  // Differs from DIB: DIB lays out a partition larger than the space left.
  if (size.relative && Number.parseFloat(spec.slice(0, -1)) > 100) {
    throw new LayoutProblem(
      `size "${spec}" is more than 100% of the space left`,
      index,
      "size",
      'use at most "100%"',
    );
  }
  return size;
}

function checkPlacement(
  request: PartitionRequest,
  index: number,
  size: { bytes: number; relative: boolean },
  freeBytes: number,
  startSector: number,
  sizeSectors: number,
  diskSectors: number,
  sectorSize: number,
): void {
  const where = `partition "${request.name}"`;
  const spaceLeftBytes = Math.max(0, diskSectors - startSector) * sectorSize;
  const growHint = "shrink it or an earlier partition, or grow the disk";
  // Differs from DIB in all checks below: DIB writes these entries as they come, pointing past the disk
  // end, with a zero length (an empty entry), or crashes packing a number that needs more than 32 bits.
  if (spaceLeftBytes === 0) {
    throw new LayoutProblem(
      `no space left for ${where}: it would start at sector ${startSector}, the disk has ${diskSectors} sectors`,
      index,
      "size",
      "shrink the earlier partitions or grow the disk",
    );
  }
  if (sizeSectors < 1) {
    const message = size.relative
      ? `size "${request.size}" of the ${formatBytes(Math.max(0, freeBytes))} left is less than one ${sectorSize}-byte sector`
      : `size "${request.size}" (${size.bytes} bytes) is less than one ${sectorSize}-byte sector`;
    throw new LayoutProblem(
      message,
      index,
      "size",
      size.relative ? growHint : 'give at least one sector, e.g. "1MiB"',
    );
  }
  const excessBytes = (startSector + sizeSectors - diskSectors) * sectorSize;
  if (excessBytes > 0) {
    throw new LayoutProblem(
      `${where} does not fit: its ${formatBytes(sizeSectors * sectorSize)} exceed the ${formatBytes(spaceLeftBytes)} left from sector ${startSector} by ${excessBytes} bytes`,
      index,
      "size",
      `shrink it or an earlier partition by at least ${excessBytes} bytes, or grow the disk`,
    );
  }
  if (startSector + sizeSectors > MBR_SECTOR_LIMIT) {
    throw new LayoutProblem(
      `${where} would end at sector ${startSector + sizeSectors}, past sector 2^32, the MBR limit`,
      index,
      "size",
      `use label "gpt", or keep MBR partitions within the first ${formatBytes(MBR_SECTOR_LIMIT * sectorSize)}`,
    );
  }
}
