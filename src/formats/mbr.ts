/**
 * MBR partition tables: the DOS table with its chain of EBRs as diskimage-builder writes it
 * (`block_device/level1/mbr.py`), and the GPT protective MBR as sgdisk writes it.
 *
 * Byte compatibility with DIB is the point: an image built by blocksmith carries the same table
 * bytes as one built by DIB with the same sizes (the disk signature aside, which DIB draws at random).
 */
import type { DiskPlan, PartitionPlan } from "../plan/types.js";
import type { SectorWrite } from "./sector-write.js";

export const MBR_SECTOR_BYTES = 512;
const DISK_SIGNATURE_OFFSET = 440;
const FIRST_ENTRY_OFFSET = 446;
const ENTRY_BYTES = 16;
const BOOT_SIGNATURE_OFFSET = 510;
/** DIB links EBRs with the CHS-era extended type; the container itself in the MBR is 0x0F (LBA). */
const EBR_LINK_TYPE = 0x05;
const PROTECTIVE_TYPE = 0xee;
const UINT32_MAX = 0xffffffff;

export interface MbrOptions {
  /** The 32-bit disk signature at offset 440 (DIB: `random.randint(0, 0xFFFFFFFF)`). */
  diskSignature: number;
}

interface EntryFields {
  bootable: boolean;
  type: number;
  startLba: number;
  lengthLba: number;
  /** Bytes 1–3 and 5–7: CHS of the first and of the "last" sector, already encoded. */
  chsStart: [number, number, number];
  chsEnd: [number, number, number];
}

// DIB's fixed geometry: the maxima, so that the CHS values do not change when the image grows.
const DIB_HEADS = 254;
const DIB_SECTORS_PER_TRACK = 63;
const DIB_MAX_CYLINDERS = 1023;

/**
 * DIB's `lba2chs` + `encode_chs`, quirks included: the cutover to the maximum is `lba > 254*63*1023`
 * (not ≥), and the cylinder's top bits are merged into the sector byte as `cylinder // 4` rather than
 * `(cylinder >> 8) << 6`. Both only matter to CHS-addressing firmware, which nobody has; we copy them
 * so the bytes equal DIB's.
 */
export function dibChs(lba: number): [number, number, number] {
  let cylinder: number;
  let head: number;
  let sector: number;
  if (lba > DIB_HEADS * DIB_SECTORS_PER_TRACK * DIB_MAX_CYLINDERS) {
    [cylinder, head, sector] = [DIB_MAX_CYLINDERS, DIB_HEADS, DIB_SECTORS_PER_TRACK];
  } else {
    cylinder = Math.floor(lba / (DIB_HEADS * DIB_SECTORS_PER_TRACK));
    head = Math.floor(lba / DIB_SECTORS_PER_TRACK) % DIB_HEADS;
    sector = (lba % DIB_SECTORS_PER_TRACK) + 1;
  }
  return [head, sector | Math.floor(cylinder / 4), cylinder % 256];
}

// sgdisk's geometry for image files and its CHS limit (gdisk `BasicMBRData::LBAtoCHS`).
const SGDISK_HEADS = 255;
const SGDISK_SECTORS_PER_TRACK = 63;
const SGDISK_CYLINDERS = 1024;

/** gdisk's `LBAtoCHS`: 0 for LBA 0, FF FF FF beyond 1024 cylinders, the standard encoding otherwise. */
export function sgdiskChs(lba: number): [number, number, number] {
  if (lba === 0) return [0, 0, 0];
  if (lba >= SGDISK_HEADS * SGDISK_SECTORS_PER_TRACK * SGDISK_CYLINDERS) return [0xff, 0xff, 0xff];
  const cylinder = Math.floor(lba / (SGDISK_HEADS * SGDISK_SECTORS_PER_TRACK));
  const remainder = lba - cylinder * SGDISK_HEADS * SGDISK_SECTORS_PER_TRACK;
  const head = Math.floor(remainder / SGDISK_SECTORS_PER_TRACK);
  const sector = remainder - head * SGDISK_SECTORS_PER_TRACK;
  return [head, sector + 1 + (cylinder >> 8) * 64, cylinder & 0xff];
}

function checkUint32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
    throw new RangeError(`${what} is ${value}, which an MBR entry cannot hold (0 to ${UINT32_MAX})`);
  }
}

function putEntry(sector: Buffer, slot: number, entry: EntryFields): void {
  if (slot < 0 || slot > 3) throw new RangeError(`MBR entry slot ${slot + 1} does not exist (1 to 4)`);
  checkUint32(entry.startLba, "the start LBA");
  checkUint32(entry.lengthLba, "the length in sectors");
  const at = FIRST_ENTRY_OFFSET + ENTRY_BYTES * slot;
  sector[at] = entry.bootable ? 0x80 : 0x00;
  sector.set(entry.chsStart, at + 1);
  sector[at + 4] = entry.type;
  sector.set(entry.chsEnd, at + 5);
  sector.writeUInt32LE(entry.startLba, at + 8);
  sector.writeUInt32LE(entry.lengthLba, at + 12);
}

/** DIB's `write_partition_entry`, including its quirk: the CHS end is that of `start + length`. */
function dibEntry(bootable: boolean, type: number, startLba: number, lengthLba: number): EntryFields {
  return {
    bootable,
    type,
    startLba,
    lengthLba,
    chsStart: dibChs(startLba),
    chsEnd: dibChs(startLba + lengthLba),
  };
}

function newTableSector(): Buffer {
  const sector = Buffer.alloc(MBR_SECTOR_BYTES);
  sector[BOOT_SIGNATURE_OFFSET] = 0x55;
  sector[BOOT_SIGNATURE_OFFSET + 1] = 0xaa;
  return sector;
}

/** "0x83" (the plan's form) → 0x83. */
export function parseMbrType(type: string, partition: string): number {
  const match = /^0x([0-9a-f]{1,2})$/i.exec(type);
  if (!match) throw new RangeError(`partition ${partition}: MBR type ${JSON.stringify(type)} is not "0xNN"`);
  return Number.parseInt(match[1]!, 16);
}

function alignUp(sector: number, alignmentSectors: number): number {
  return Math.ceil(sector / alignmentSectors) * alignmentSectors;
}

/**
 * The MBR (sector 0) and one EBR per logical partition, as DIB's `MBR` class writes them for the same
 * layout. Sectors are 512 bytes: DIB's MBR class knows no other size.
 *
 * - MBR: disk signature at 440, primaries and the extended container (type from the plan, 0x0F) in
 *   their slots, 0x55AA. DIB writes nothing into the boot code area; neither do we (zeros).
 * - EBR of each logical: entry 0 is the logical relative to its own EBR; entry 1 links to the next
 *   EBR relative to the start of the extended container, type 0x05, with DIB's length: from the next
 *   EBR to the aligned end of the next logical's data. The last EBR has no link.
 */
export function writeMbr(disk: DiskPlan, options: MbrOptions): SectorWrite[] {
  if (disk.sectorSize !== MBR_SECTOR_BYTES) {
    throw new RangeError(
      `disk ${disk.name}: MBR tables are written for 512-byte sectors (as DIB does), not ${disk.sectorSize}`,
    );
  }
  checkUint32(options.diskSignature, "the disk signature");
  const alignmentSectors = Math.max(1, Math.floor(disk.alignBytes / MBR_SECTOR_BYTES));

  const mbr = newTableSector();
  mbr.writeUInt32LE(options.diskSignature, DISK_SIGNATURE_OFFSET);
  const writes: SectorWrite[] = [{ offsetBytes: 0, data: mbr }];

  let extended: PartitionPlan | undefined;
  for (const partition of disk.partitions) {
    if (partition.role !== "primary" && partition.role !== "extended") continue;
    if (partition.role === "extended") extended = partition;
    // DIB never sets the boot flag on the extended container.
    const bootable = partition.role === "primary" && partition.flags.includes("boot");
    const type = parseMbrType(partition.type, partition.name);
    putEntry(
      mbr,
      partition.number - 1,
      dibEntry(bootable, type, partition.startSector, partition.sizeSectors),
    );
  }

  const logicals = disk.partitions
    .filter((partition) => partition.role === "logical")
    .sort((a, b) => a.number - b.number);
  if (logicals.length > 0 && extended === undefined) {
    throw new RangeError(`disk ${disk.name}: logical partitions but no extended container in the plan`);
  }
  logicals.forEach((logical, index) => {
    const ebrSector = logical.ebrSector;
    if (ebrSector === undefined)
      throw new RangeError(`partition ${logical.name}: logical without an EBR sector`);
    const ebr = newTableSector();
    const type = parseMbrType(logical.type, logical.name);
    putEntry(
      ebr,
      0,
      dibEntry(logical.flags.includes("boot"), type, logical.startSector - ebrSector, logical.sizeSectors),
    );
    const next = logicals[index + 1];
    if (next !== undefined) {
      const nextEbr = next.ebrSector;
      if (nextEbr === undefined)
        throw new RangeError(`partition ${next.name}: logical without an EBR sector`);
      const nextEnd = alignUp(next.startSector + next.sizeSectors, alignmentSectors);
      putEntry(ebr, 1, dibEntry(false, EBR_LINK_TYPE, nextEbr - extended!.startSector, nextEnd - nextEbr));
    }
    writes.push({ offsetBytes: ebrSector * MBR_SECTOR_BYTES, data: ebr });
  });
  return writes;
}

/**
 * The protective MBR in front of a GPT, as sgdisk writes it: disk signature 0, one non-bootable entry
 * of type 0xEE from LBA 1 covering the disk (0xFFFFFFFF when it does not fit: sgdisk uses
 * `total − 1` only while `total < 0xFFFFFFFF`), CHS from gdisk's 255-head/63-sector geometry. LBAs
 * count logical sectors; the MBR itself is the first 512 bytes of LBA 0 whatever the sector size.
 */
export function writeProtectiveMbr(totalSectors: number, sectorSize: number): SectorWrite {
  if (sectorSize !== 512 && sectorSize !== 4096) {
    throw new RangeError(`sector size ${sectorSize} is not supported (512 or 4096)`);
  }
  if (!Number.isSafeInteger(totalSectors) || totalSectors < 2) {
    throw new RangeError(`a disk of ${totalSectors} sectors cannot hold a protective MBR`);
  }
  const sector = newTableSector();
  const lengthLba = totalSectors < UINT32_MAX ? totalSectors - 1 : UINT32_MAX;
  putEntry(sector, 0, {
    bootable: false,
    type: PROTECTIVE_TYPE,
    startLba: 1,
    lengthLba,
    chsStart: sgdiskChs(1),
    chsEnd: sgdiskChs(lengthLba),
  });
  return { offsetBytes: 0, data: sector };
}

/** One GPT partition mirrored into a hybrid MBR. */
export interface HybridMbrEntry {
  startLba: number;
  lengthLba: number;
  type: number;
  bootable: boolean;
}

/**
 * A hybrid MBR as `sgdisk -h N[:M…]` writes it (gdisk `GPTDataCL::BuildMBR`): the 0xEE entry in slot 1,
 * from LBA 1 up to the sector before the lowest mirrored partition (gdisk's `FindLastInFree(1)`), then
 * the mirrored partitions in slots 2–4 in the order given, CHS from the same geometry as the protective
 * MBR. sgdisk always writes them inactive; `bootable` sets 0x80, which is what interactive gdisk writes
 * when its "Set the bootable flag?" is answered yes.
 */
export function writeHybridMbrSector(
  totalSectors: number,
  sectorSize: number,
  entries: HybridMbrEntry[],
): SectorWrite {
  if (entries.length < 1 || entries.length > 3) {
    throw new RangeError(`a hybrid MBR mirrors 1 to 3 partitions, not ${entries.length}`);
  }
  const sector = writeProtectiveMbr(totalSectors, sectorSize).data;
  const diskEnd = Math.min(totalSectors, UINT32_MAX);
  const protectedEnd = Math.min(diskEnd, ...entries.map((entry) => entry.startLba)) - 1;
  putEntry(sector, 0, {
    bootable: false,
    type: PROTECTIVE_TYPE,
    startLba: 1,
    lengthLba: protectedEnd,
    chsStart: sgdiskChs(1),
    chsEnd: sgdiskChs(protectedEnd),
  });
  entries.forEach((entry, index) => {
    if (entry.startLba < 2 || entry.lengthLba < 1 || entry.startLba + entry.lengthLba - 1 > UINT32_MAX) {
      throw new RangeError(
        `sectors ${entry.startLba}+${entry.lengthLba} cannot be mirrored into an MBR entry (sgdisk: "too big")`,
      );
    }
    putEntry(sector, index + 1, {
      ...entry,
      chsStart: sgdiskChs(entry.startLba),
      chsEnd: sgdiskChs(entry.startLba + entry.lengthLba - 1),
    });
  });
  return { offsetBytes: 0, data: sector };
}
