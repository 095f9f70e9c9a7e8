/**
 * Sets the access and change times of every inode in use in an ext2/3/4 file system, in place, with
 * the inode checksums recomputed: what `debugfs -w` + `sif <N> atime/ctime` does, without running
 * debugfs over tens of thousands of inodes. Offline builds use it for SOURCE_DATE_EPOCH (mke2fs -d copies
 * ctime and atime from the source tree, where they only say when the tree was checked out or read).
 *
 * Layout facts (kernel Documentation/filesystems/ext4, e2fsprogs lib/ext2fs): superblock at byte 1024;
 * group descriptors in the block after the superblock's; in-use inodes are the set bits of each group's
 * inode bitmap (a group flagged INODE_UNINIT has none). Inode fields: i_atime 0x08, i_ctime 0x0C,
 * i_generation 0x64, l_i_checksum_lo 0x7C, i_extra_isize 0x80, i_checksum_hi 0x82, i_ctime_extra 0x84,
 * i_atime_extra 0x8C. With metadata_csum the checksum is crc32c(seed; inode number, generation, the
 * inode with both checksum fields zeroed), seed = crc32c(~0; UUID) unless the superblock carries one.
 */
import { crc32cRaw } from "./crc32.js";
import type { ByteAccess } from "./byte-access.js";

const INCOMPAT_64BIT = 0x80;
const INCOMPAT_CSUM_SEED = 0x2000;
const RO_COMPAT_METADATA_CSUM = 0x400;
const BG_INODE_UNINIT = 0x1;

interface Superblock {
  blockBytes: number;
  inodesPerGroup: number;
  groupCount: number;
  inodeBytes: number;
  firstInode: number;
  descriptorBytes: number;
  firstDataBlock: number;
  checksumSeed: number | undefined;
}

export function readSuperblock(bytes: Buffer): Superblock {
  if (bytes.readUInt16LE(0x38) !== 0xef53)
    throw new Error("not an ext2/3/4 file system (no superblock magic)");
  const incompat = bytes.readUInt32LE(0x60);
  const roCompat = bytes.readUInt32LE(0x64);
  const inodesCount = bytes.readUInt32LE(0x00);
  const inodesPerGroup = bytes.readUInt32LE(0x28);
  const revision = bytes.readUInt32LE(0x4c);
  const metadataCsum = (roCompat & RO_COMPAT_METADATA_CSUM) !== 0;
  return {
    blockBytes: 1024 << bytes.readUInt32LE(0x18),
    inodesPerGroup,
    groupCount: Math.ceil(inodesCount / inodesPerGroup),
    inodeBytes: revision === 0 ? 128 : bytes.readUInt16LE(0x58),
    firstInode: revision === 0 ? 11 : bytes.readUInt32LE(0x54),
    descriptorBytes: incompat & INCOMPAT_64BIT ? bytes.readUInt16LE(0xfe) : 32,
    firstDataBlock: bytes.readUInt32LE(0x14),
    checksumSeed: !metadataCsum
      ? undefined
      : incompat & INCOMPAT_CSUM_SEED
        ? bytes.readUInt32LE(0x270)
        : crc32cRaw(0xffffffff, bytes.subarray(0x68, 0x78)),
  };
}

function little32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value >>> 0);
  return buffer;
}

/** Sets the times of one inode (a slice of the inode table) and its checksum. Returns whether it changed. */
export function setInodeTimes(
  inode: Buffer,
  inodeNumber: number,
  epochSeconds: number,
  checksumSeed: number | undefined,
): boolean {
  const extra = inode.length > 128 ? inode.readUInt16LE(0x80) : 0;
  const before = Buffer.from(inode);
  inode.writeUInt32LE(epochSeconds, 0x08);
  inode.writeUInt32LE(epochSeconds, 0x0c);
  if (extra >= 0x88 - 0x80) inode.writeUInt32LE(0, 0x84); // ctime_extra: no nanoseconds, epoch bits 0
  if (extra >= 0x90 - 0x80) inode.writeUInt32LE(0, 0x8c); // atime_extra
  if (inode.equals(before)) return false;
  if (checksumSeed !== undefined) {
    const hasHigh = extra >= 0x84 - 0x80;
    inode.writeUInt16LE(0, 0x7c);
    if (hasHigh) inode.writeUInt16LE(0, 0x82);
    let crc = crc32cRaw(checksumSeed, little32(inodeNumber));
    crc = crc32cRaw(crc, little32(inode.readUInt32LE(0x64)));
    crc = crc32cRaw(crc, inode);
    inode.writeUInt16LE(crc & 0xffff, 0x7c);
    if (hasHigh) inode.writeUInt16LE(crc >>> 16, 0x82);
  }
  return true;
}

/** Sets atime and ctime of every inode in use (root and from the first non-reserved one). Returns how many. */
export function setExtInodeTimes(access: ByteAccess, epochSeconds: number): number {
  const sb = readSuperblock(access.read(1024, 1024));
  const gdtOffset = (sb.firstDataBlock + 1) * sb.blockBytes;
  const descriptors = access.read(gdtOffset, sb.groupCount * sb.descriptorBytes);
  let count = 0;
  for (let group = 0; group < sb.groupCount; group += 1) {
    const descriptor = descriptors.subarray(group * sb.descriptorBytes, (group + 1) * sb.descriptorBytes);
    if (descriptor.readUInt16LE(0x12) & BG_INODE_UNINIT) continue;
    const high = (at: number) => (sb.descriptorBytes >= 64 ? descriptor.readUInt32LE(at) * 2 ** 32 : 0);
    const bitmapBlock = descriptor.readUInt32LE(0x04) + high(0x24);
    const tableBlock = descriptor.readUInt32LE(0x08) + high(0x28);
    const bitmap = access.read(bitmapBlock * sb.blockBytes, Math.ceil(sb.inodesPerGroup / 8));
    let last = -1;
    for (let index = sb.inodesPerGroup - 1; index >= 0; index -= 1)
      if (bitmap[index >> 3]! & (1 << (index & 7))) {
        last = index;
        break;
      }
    if (last < 0) continue;
    const tableOffset = tableBlock * sb.blockBytes;
    const table = access.read(tableOffset, (last + 1) * sb.inodeBytes);
    let dirty = false;
    for (let index = 0; index <= last; index += 1) {
      if (!(bitmap[index >> 3]! & (1 << (index & 7)))) continue;
      const inodeNumber = group * sb.inodesPerGroup + index + 1;
      if (inodeNumber !== 2 && inodeNumber < sb.firstInode) continue;
      const inode = table.subarray(index * sb.inodeBytes, (index + 1) * sb.inodeBytes);
      if (setInodeTimes(inode, inodeNumber, epochSeconds, sb.checksumSeed)) dirty = true;
      count += 1;
    }
    if (dirty) access.write(tableOffset, table);
  }
  return count;
}
