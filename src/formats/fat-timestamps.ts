/**
 * Clamps every timestamp in a FAT12/16/32 file system to a given time (SOURCE_DATE_EPOCH), so that a
 * vfat populated by `mcopy` is reproducible: mtools 4.0.32 stamps creation, access and the write time of
 * the directories it makes with the current time. Times already earlier than the epoch are kept (the
 * reproducible-builds "clamp" rule), so file modification times from the source tree survive.
 *
 * Layout facts (Microsoft "FAT: General Overview of On-Disk Format"): BPB fields in sector 0; 32-byte
 * directory entries with creation time at 14/16 (+ tenths at 13), access date at 18 and write time at
 * 22/24; FAT time = hours<<11 | minutes<<5 | seconds/2, FAT date = (year-1980)<<9 | month<<5 | day.
 * FAT stores local time; blocksmith writes and reads it as UTC, as mtools does with TZ unset.
 */

import type { ByteAccess } from "./byte-access.js";

interface Geometry {
  bytesPerSector: number;
  bytesPerCluster: number;
  fatOffsetBytes: number;
  fatBits: 12 | 16 | 32;
  rootDirOffsetBytes: number;
  rootDirBytes: number;
  rootCluster: number;
  dataOffsetBytes: number;
}

export function readFatGeometry(bootSector: Buffer): Geometry {
  const bytesPerSector = bootSector.readUInt16LE(11);
  const sectorsPerCluster = bootSector.readUInt8(13);
  const reservedSectors = bootSector.readUInt16LE(14);
  const fatCount = bootSector.readUInt8(16);
  const rootEntries = bootSector.readUInt16LE(17);
  const totalSectors = bootSector.readUInt16LE(19) || bootSector.readUInt32LE(32);
  const fatSectors = bootSector.readUInt16LE(22) || bootSector.readUInt32LE(36);
  if (bytesPerSector === 0 || sectorsPerCluster === 0 || bootSector.readUInt16LE(510) !== 0xaa55)
    throw new Error("not a FAT file system (no valid boot sector)");
  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const dataStart = reservedSectors + fatCount * fatSectors + rootDirSectors;
  const clusters = Math.floor((totalSectors - dataStart) / sectorsPerCluster);
  const fatBits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
  return {
    bytesPerSector,
    bytesPerCluster: bytesPerSector * sectorsPerCluster,
    fatOffsetBytes: reservedSectors * bytesPerSector,
    fatBits,
    rootDirOffsetBytes: (reservedSectors + fatCount * fatSectors) * bytesPerSector,
    rootDirBytes: rootDirSectors * bytesPerSector,
    rootCluster: fatBits === 32 ? bootSector.readUInt32LE(44) : 0,
    dataOffsetBytes: dataStart * bytesPerSector,
  };
}

function nextCluster(access: ByteAccess, geometry: Geometry, cluster: number): number | undefined {
  const { fatBits, fatOffsetBytes } = geometry;
  if (fatBits === 32) {
    const value = access.read(fatOffsetBytes + cluster * 4, 4).readUInt32LE(0) & 0x0fffffff;
    return value >= 0x0ffffff8 || value < 2 ? undefined : value;
  }
  if (fatBits === 16) {
    const value = access.read(fatOffsetBytes + cluster * 2, 2).readUInt16LE(0);
    return value >= 0xfff8 || value < 2 ? undefined : value;
  }
  const pair = access.read(fatOffsetBytes + Math.floor((cluster * 3) / 2), 2).readUInt16LE(0);
  const value = cluster % 2 === 0 ? pair & 0x0fff : pair >> 4;
  return value >= 0xff8 || value < 2 ? undefined : value;
}

/** The byte ranges of a directory: the fixed FAT12/16 root, or a cluster chain. */
function directoryRanges(access: ByteAccess, geometry: Geometry, firstCluster: number): [number, number][] {
  if (firstCluster === 0) return [[geometry.rootDirOffsetBytes, geometry.rootDirBytes]];
  const ranges: [number, number][] = [];
  const seen = new Set<number>();
  for (let cluster: number | undefined = firstCluster; cluster !== undefined;) {
    if (seen.has(cluster)) throw new Error(`FAT cluster chain loops at cluster ${cluster}`);
    seen.add(cluster);
    ranges.push([
      geometry.dataOffsetBytes + (cluster - 2) * geometry.bytesPerCluster,
      geometry.bytesPerCluster,
    ]);
    cluster = nextCluster(access, geometry, cluster);
  }
  return ranges;
}

export function encodeFatDateTime(epochSeconds: number): { date: number; time: number } {
  const when = new Date(epochSeconds * 1000);
  const year = Math.min(Math.max(when.getUTCFullYear(), 1980), 2107);
  return {
    date: ((year - 1980) << 9) | ((when.getUTCMonth() + 1) << 5) | when.getUTCDate(),
    time: (when.getUTCHours() << 11) | (when.getUTCMinutes() << 5) | Math.floor(when.getUTCSeconds() / 2),
  };
}

export function decodeFatDateTime(date: number, time: number): number {
  return (
    Date.UTC(
      (date >> 9) + 1980,
      ((date >> 5) & 0x0f) - 1,
      date & 0x1f,
      time >> 11,
      (time >> 5) & 0x3f,
      (time & 0x1f) * 2,
    ) / 1000
  );
}

/** Clamps one 32-byte entry in place; returns whether it changed. */
export function clampEntry(entry: Buffer, epochSeconds: number): boolean {
  const clamp = encodeFatDateTime(epochSeconds);
  let changed = false;
  // [time offset or -1 for date-only fields, date offset]
  for (const [timeAt, dateAt] of [
    [14, 16],
    [-1, 18],
    [22, 24],
  ] as const) {
    const date = entry.readUInt16LE(dateAt);
    const time = timeAt >= 0 ? entry.readUInt16LE(timeAt) : 0;
    if (date === 0) continue; // "not set" (mkfs and some tools leave creation/access empty)
    const later = timeAt >= 0 ? decodeFatDateTime(date, time) > epochSeconds : date > clamp.date;
    if (!later) continue;
    entry.writeUInt16LE(clamp.date, dateAt);
    if (timeAt >= 0) entry.writeUInt16LE(clamp.time, timeAt);
    if (timeAt === 14) entry.writeUInt8(epochSeconds % 2 === 0 ? 0 : 100, 13); // tenths: the odd second
    changed = true;
  }
  return changed;
}

/** Walks every directory from the root and clamps every entry's times. Returns the entries changed. */
export function clampFatTimestamps(access: ByteAccess, epochSeconds: number): number {
  const geometry = readFatGeometry(access.read(0, 512));
  let changed = 0;
  const pending = [geometry.fatBits === 32 ? geometry.rootCluster : 0];
  const visited = new Set<number>();
  while (pending.length > 0) {
    const directory = pending.pop()!;
    if (visited.has(directory)) continue;
    visited.add(directory);
    for (const [offset, length] of directoryRanges(access, geometry, directory)) {
      const block = access.read(offset, length);
      let dirty = false;
      for (let at = 0; at + 32 <= block.length; at += 32) {
        const first = block[at]!;
        if (first === 0x00) break; // end of directory
        const attributes = block[at + 11]!;
        if (first === 0xe5 || (attributes & 0x3f) === 0x0f) continue; // deleted, or a long-name part
        const entry = block.subarray(at, at + 32);
        if (clampEntry(entry, epochSeconds)) {
          dirty = true;
          changed += 1;
        }
        const name = entry.toString("latin1", 0, 11);
        if (attributes & 0x10 && name !== ".          " && name !== "..         ") {
          const cluster = (entry.readUInt16LE(20) << 16) | entry.readUInt16LE(26);
          if (cluster >= 2) pending.push(cluster);
        }
      }
      if (dirty) access.write(offset, block);
    }
  }
  return changed;
}
