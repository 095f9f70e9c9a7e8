/**
 * md RAID size math: where `mdadm --create` puts the data on each member and how big the array is,
 * reproducing mdadm 4.2 (Debian 12) with Linux 6.1's md, defaults only (chunk 512 KiB, layout n2 for
 * RAID10, no --size/--data-offset/--bitmap). Measured by test/vm/measure-level1.sh for member sizes
 * 1 MiB to 300 GiB, equal, unequal and not multiples of 4 KiB (test/fixtures/level1-measurements.txt).
 */
import { LayoutProblem } from "../../../core/errors.js";
import { formatBytes } from "../../../core/size.js";
import type { RaidPlan } from "../../../plan/types.js";

const SECTOR_BYTES = 512;

export type RaidLevel = 0 | 1 | 5 | 6 | 10;
export type RaidMetadata = "1.2" | "1.1" | "1.0" | "0.90";

/** mdadm's default chunk (`DEFAULT_CHUNK`) for RAID 0, 5, 6 and 10; RAID1 has none. */
export const MD_DEFAULT_CHUNK_BYTES = 512 * 1024;

/** Members mdadm needs without --force (measured: 1 member is "an unusual number"; RAID6 needs 4). */
export const MD_MIN_MEMBERS: Readonly<Record<RaidLevel, number>> = { 0: 2, 1: 2, 5: 2, 6: 4, 10: 2 };

/** mdadm adds an internal write-intent bitmap when the per-member size exceeds 100 GiB (levels ≥ 1). */
const BITMAP_THRESHOLD_KIB = 100 * 1024 * 1024;

export interface RaidLayoutInput {
  level: RaidLevel;
  /** Default "1.2". */
  metadata?: RaidMetadata;
  /** In the order given to mdadm: for 1.1/1.2 the first member decides the data offset of all. */
  memberSizesBytes: number[];
}

export interface RaidLayout extends Pick<RaidPlan, "level" | "metadata" | "dataOffsetBytes" | "sizeBytes"> {
  /**
   * Bytes of each member the array uses ("Used Dev Size"); for RAID0, which has none, the smallest
   * member's share.
   */
  memberSizeBytes: number;
  /** Where the superblock is on the first member. */
  superblockOffsetBytes: number;
  chunkSizeBytes: number;
  /** Whether mdadm adds an internal write-intent bitmap (size does not change). */
  bitmap: boolean;
  /** Per member: bytes the array uses on it (RAID0 uses each member's whole rounded space). */
  usedBytesPerMember: number[];
  /** The array's /sys/block/mdX/queue/{minimum,optimal}_io_size, which move LVM's pe_start. */
  minimumIoBytes: number;
  optimalIoBytes: number;
}

/** super1.c choose_bm_space: sectors kept for a bitmap, by member size in sectors. */
function chooseBitmapSpace(deviceSectors: number): number {
  if (deviceSectors < 64 * 2) return 0;
  if (deviceSectors - 64 * 2 >= 200 * 1024 * 1024 * 2) return 128 * 2;
  if (deviceSectors - 4 * 2 > 8 * 1024 * 1024 * 2) return 64 * 2;
  return 4 * 2;
}

/**
 * super1.c validate_geometry1 for 1.1/1.2: room for the superblock, bad-block log and bitmap, plus reshape
 * headroom of about 0.1% (at most 128 MiB; at least two chunks for striped levels), rounded up to 1 MiB.
 */
function dataOffsetSectors1x(deviceSectors: number, chunkKiB: number): number {
  let headroom = 128 * 1024 * 2;
  while (headroom * 1024 > deviceSectors && (chunkKiB === 0 || headroom / 2 >= chunkKiB * 2 * 2)) {
    headroom = Math.floor(headroom / 2);
  }
  const offset = 12 * 2 + chooseBitmapSpace(deviceSectors) + headroom;
  return Math.ceil(offset / 2048) * 2048;
}

/** 0.90: the superblock sits in the last 64 KiB-aligned 64 KiB (md_p.h MD_NEW_SIZE_SECTORS). */
function md090SizeSectors(deviceSectors: number): number {
  return deviceSectors - (deviceSectors % 128) - 128;
}

/**
 * What `mdadm --create --level=L --raid-devices=N --metadata=M <members>` builds on members of these
 * sizes: the data offset on each member, the per-member size and the array size. Throws LayoutProblem
 * (itemIndex = member index, when one member is at fault) for what mdadm refuses.
 */
export function layoutRaid(input: RaidLayoutInput): RaidLayout {
  const { level } = input;
  const metadata = input.metadata ?? "1.2";
  const members = input.memberSizesBytes;
  const count = members.length;
  const minimum = MD_MIN_MEMBERS[level];
  if (minimum === undefined) {
    throw new LayoutProblem(
      `RAID level ${String(level)} is not supported`,
      undefined,
      "level",
      "use 0, 1, 5, 6 or 10",
    );
  }
  if (count < minimum) {
    throw new LayoutProblem(
      `RAID${level} needs at least ${minimum} members, not ${count}`,
      undefined,
      "base",
      `add ${minimum - count} more member${minimum - count === 1 ? "" : "s"}`,
    );
  }
  // Debian's mdadm 4.2 gives RAID0 a layout, which 0.90 superblocks cannot record (measured).
  if (level === 0 && metadata === "0.90") {
    throw new LayoutProblem(
      "mdadm refuses RAID0 with 0.90 metadata (it does not support RAID0 layouts)",
      undefined,
      "metadata",
      'use metadata "1.2" (or "1.0" to keep the start of each member free)',
    );
  }
  const chunkKiB = level === 1 ? 0 : MD_DEFAULT_CHUNK_BYTES / 1024;
  const chunkSectors = chunkKiB * 2;
  const sectors = members.map((bytes) => Math.floor(bytes / SECTOR_BYTES));

  // The first member fixes the data offset for the whole array ("use as default for whole array").
  const dataOffset =
    metadata === "1.1" || metadata === "1.2" ? dataOffsetSectors1x(sectors[0]!, chunkKiB) : 0;

  // Space each member offers (validate_geometry, in sectors), then mdadm's KiB and chunk rounding.
  const freeKiB = sectors.map((deviceSectors, index) => {
    let free: number;
    if (metadata === "0.90") {
      free = deviceSectors < 128 ? -1 : md090SizeSectors(deviceSectors);
    } else if (metadata === "1.0") {
      free = deviceSectors - (deviceSectors % 8) - (8 * 2 + 8 + chooseBitmapSpace(deviceSectors));
    } else {
      free = deviceSectors - dataOffset;
    }
    let kib = Math.floor(free / 2);
    if (chunkKiB > 0) kib -= kib % chunkKiB;
    if (kib <= 0) {
      const overhead = metadata === "1.1" || metadata === "1.2" ? dataOffset * SECTOR_BYTES : 64 * 1024;
      throw new LayoutProblem(
        `member ${index + 1} (${members[index]} bytes) has no room for data after ${metadata} metadata` +
          (chunkKiB > 0 ? ` and rounding to ${chunkKiB} KiB chunks` : "") +
          ` (mdadm keeps ${formatBytes(overhead)}${chunkKiB > 0 ? ` plus a ${chunkKiB} KiB chunk` : ""})`,
        index,
        undefined,
        "use bigger members",
      );
    }
    return kib;
  });
  let componentKiB = Math.min(...freeKiB);
  // "If this is ever reshaped to RAID5, we will need a chunksize. So round it off a bit now."
  if (level === 1) componentKiB -= componentKiB % 64;

  let usedSectorsPerMember: number[];
  let arraySectors: number;
  if (level === 0) {
    // RAID0 has no component size: md uses each member's whole data area (1.x: the superblock's
    // data_size; 0.90: up to the superblock), each rounded down to the chunk, and sums them.
    usedSectorsPerMember = sectors.map((deviceSectors) => {
      let data: number;
      if (metadata === "1.0") data = deviceSectors - 16 - ((deviceSectors - 16) % 8) - 8;
      else data = deviceSectors - dataOffset;
      return data - (data % chunkSectors);
    });
    arraySectors = usedSectorsPerMember.reduce((sum, value) => sum + value, 0);
  } else {
    const component = componentKiB * 2;
    usedSectorsPerMember = sectors.map(() => component);
    if (level === 1) arraySectors = component;
    else if (level === 5) arraySectors = component * (count - 1);
    else if (level === 6) arraySectors = component * (count - 2);
    else {
      // raid10_size with the default layout n2: whole chunks per member × members / 2 copies.
      const chunks = Math.floor(component / chunkSectors);
      arraySectors = Math.floor((chunks * count) / 2) * chunkSectors;
    }
  }

  let superblockOffset: number;
  if (metadata === "1.2") superblockOffset = 8;
  else if (metadata === "1.1") superblockOffset = 0;
  else if (metadata === "1.0") superblockOffset = sectors[0]! - 16 - ((sectors[0]! - 16) % 8);
  else superblockOffset = md090SizeSectors(sectors[0]!);

  // md's I/O hints: RAID1 none; striped levels the chunk and a full stripe of data members (raid0.c,
  // raid5.c; raid10.c divides by the 2 near copies only when they divide the member count). Measured for
  // RAID0 ×3, RAID5 ×3 and ×4, RAID10 ×4 and RAID1 ×2; RAID6 and odd RAID10 counts are from the source.
  let dataMembers = count;
  if (level === 5) dataMembers = count - 1;
  else if (level === 6) dataMembers = count - 2;
  else if (level === 10 && count % 2 === 0) dataMembers = count / 2;
  const chunkBytes = chunkKiB * 1024;

  return {
    level,
    metadata,
    dataOffsetBytes: dataOffset * SECTOR_BYTES,
    superblockOffsetBytes: superblockOffset * SECTOR_BYTES,
    memberSizeBytes: (level === 0 ? Math.min(...usedSectorsPerMember) : componentKiB * 2) * SECTOR_BYTES,
    usedBytesPerMember: usedSectorsPerMember.map((value) => value * SECTOR_BYTES),
    chunkSizeBytes: chunkKiB * 1024,
    bitmap: level !== 0 && componentKiB > BITMAP_THRESHOLD_KIB,
    sizeBytes: arraySectors * SECTOR_BYTES,
    minimumIoBytes: level === 1 ? SECTOR_BYTES : chunkBytes,
    optimalIoBytes: level === 1 ? 0 : chunkBytes * dataMembers,
  };
}
