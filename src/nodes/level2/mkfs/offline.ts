/**
 * Offline mode for `mkfs`: the commands that make a file system inside a range of an image file, with
 * no loop device. ext2/3/4 and vfat are made in place (`mke2fs -E offset=`, `mkfs.vfat --offset`); xfs
 * and btrfs, whose tools have no offset option, in a sparse file of their own that is then copied in;
 * swap's header is written by blocksmith.
 */
import type { FilesystemPlan } from "../../../plan/types.js";
import type { SectorWrite } from "../../../formats/sector-write.js";
import { writeSwapHeader } from "../../../formats/swap.js";

export interface OfflineFilesystemInput {
  fs: FilesystemPlan;
  image: string;
  offsetBytes: number;
  sizeBytes: number;
  /** First sector of the partition on the disk (FAT's "hidden sectors", as mkfs.vfat reads it from a partition). */
  startSector: number;
  uuid: string;
  /** ext: the directory hash seed (random by default; fixed with --seed for reproducible images). */
  hashSeed?: string;
  /** SOURCE_DATE_EPOCH. */
  epochSeconds?: number;
  /** Filled from a directory (the staging view, `{staging}` in the argv). */
  populated: boolean;
  /** Where xfs and btrfs are made before being copied in. */
  tempFile: string;
  /**
   * The logical sector size of the device the file system will be read from (4096 for most LUKS2
   * volumes): a plain file says 512, and the kernel refuses ext4 blocks or FAT sectors below the device's.
   */
  logicalSectorBytes?: number;
}

export interface OfflineCommand {
  argv: string[];
  purpose: string;
  env?: Record<string, string>;
}

export type OfflineFilesystemWork =
  | { kind: "in-place"; commands: OfflineCommand[] }
  | { kind: "temp-file"; file: string; commands: OfflineCommand[] }
  | { kind: "header"; writes: SectorWrite[] };

export const EXT_TYPES = new Set(["ext2", "ext3", "ext4"]);
export const FAT_TYPES = new Set(["vfat", "fat"]);

/** The tools offline mode runs for one file system. */
export function offlineTools(type: string, populated: boolean): string[] {
  if (EXT_TYPES.has(type)) return ["mke2fs"];
  if (FAT_TYPES.has(type)) return ["mkfs.vfat", ...(populated ? ["mcopy"] : [])];
  if (type === "xfs") return ["mkfs.xfs", "xfs_io"];
  if (type === "btrfs") return ["mkfs.btrfs", "xfs_io"];
  return [];
}

/** FAT's 32-bit volume id: given as XXXX-XXXX (as DIB's `-i`), else the first 8 hex digits of the UUID. */
export function fatVolumeId(fs: FilesystemPlan, uuid: string): string {
  return fs.uuid !== undefined ? fs.uuid.replace("-", "") : uuid.slice(0, 8);
}

/**
 * The FAT size mkfs.fat (dosfstools 4.2) picks by itself for a device of this size. Offline, mkfs.vfat
 * sees the whole image file behind the offset, not the partition, so blocksmith passes the choice the
 * tool would make on the partition as `-F` (a test compares it with mkfs.vfat on files of each size).
 */
export function fatBitsFor(sizeBytes: number): 12 | 16 | 32 {
  if (sizeBytes >= 512 * 1024 * 1024) return 32;
  return sizeBytes >= 8208 * 1024 ? 16 : 12;
}

export function offlineMkfs(input: OfflineFilesystemInput): OfflineFilesystemWork {
  const { fs, image, offsetBytes, sizeBytes, uuid } = input;
  const what = `${fs.type} "${fs.label}" on ${fs.base}`;
  const sector = input.logicalSectorBytes ?? 512;
  /** `flag value` for a device with large sectors, unless the config already sets that option. */
  const forLargeSectors = (flag: string, value: string) =>
    sector > 512 && !fs.opts.some((opt) => opt.startsWith(flag)) ? [flag, value] : [];
  if (fs.type === "swap")
    return { kind: "header", writes: writeSwapHeader(sizeBytes, { uuid, label: fs.label, offsetBytes }) };
  if (EXT_TYPES.has(fs.type)) {
    // The range is fresh (a new sparse file): nothing to zero. Without this mke2fs writes the whole
    // journal as zeros (64 MiB for a 4 GiB root), which costs time and the image's sparseness.
    const extended = [
      `offset=${offsetBytes}`,
      "assume_storage_prezeroed=1",
      ...(input.hashSeed ? [`hash_seed=${input.hashSeed}`] : []),
    ];
    return {
      kind: "in-place",
      commands: [
        {
          argv: [
            "mke2fs",
            "-t",
            fs.type,
            ...forLargeSectors("-b", String(sector)),
            ...fs.opts,
            "-L",
            fs.label,
            "-U",
            uuid,
            "-E",
            extended.join(","),
            "-F",
            "-q",
            ...(input.populated ? ["-d", "{staging}"] : []),
            image,
            `${Math.floor(sizeBytes / 1024)}k`,
          ],
          purpose: `make ${what}`,
          // e2fsprogs 1.47.0 ignores SOURCE_DATE_EPOCH; this is its own knob for every time it writes.
          ...(input.epochSeconds !== undefined
            ? { env: { E2FSPROGS_FAKE_TIME: String(input.epochSeconds) } }
            : {}),
        },
      ],
    };
  }
  if (FAT_TYPES.has(fs.type)) {
    const sdeEnv =
      input.epochSeconds !== undefined ? { SOURCE_DATE_EPOCH: String(input.epochSeconds) } : undefined;
    const commands: OfflineCommand[] = [
      {
        argv: [
          "mkfs.vfat",
          ...(fs.opts.some((opt) => opt.startsWith("-F")) ? [] : ["-F", String(fatBitsFor(sizeBytes))]),
          ...forLargeSectors("-S", String(sector)),
          ...fs.opts,
          "-n",
          fs.label,
          "-i",
          fatVolumeId(fs, uuid),
          "--offset",
          String(offsetBytes / 512),
          "-h",
          String(input.startSector),
          image,
          String(Math.floor(sizeBytes / 1024)),
        ],
        purpose: `make ${what}`,
        ...(sdeEnv ? { env: sdeEnv } : {}),
      },
    ];
    if (input.populated)
      commands.push({
        argv: ["mcopy", "-s", "-p", "-m", "-Q", "-i", `${image}@@${offsetBytes}`, "{staging-entries}", "::/"],
        purpose: `copy the files of ${fs.base} into ${what}`,
        // The image is a plain file with a partition table, not a floppy: skip mtools' geometry checks.
        env: { MTOOLS_SKIP_CHECK: "1", ...sdeEnv },
      });
    return { kind: "in-place", commands };
  }
  const file = input.tempFile;
  if (fs.type === "xfs")
    return {
      kind: "temp-file",
      file,
      commands: [
        {
          argv: [
            "mkfs.xfs",
            ...forLargeSectors("-s", `size=${sector}`),
            ...fs.opts,
            "-L",
            fs.label,
            "-m",
            `uuid=${uuid}`,
            "-q",
            "-f",
            ...(input.populated ? ["-p", "{proto}"] : []),
            file,
          ],
          purpose: `make ${what}`,
        },
      ],
    };
  if (fs.type === "btrfs")
    return {
      kind: "temp-file",
      file,
      commands: [
        {
          argv: [
            "mkfs.btrfs",
            ...fs.opts,
            "-L",
            fs.label,
            "-U",
            uuid,
            "-q",
            "-f",
            ...(input.populated ? ["--rootdir", "{staging}"] : []),
            file,
          ],
          purpose: `make ${what}`,
        },
      ],
    };
  throw new Error(`internal: no offline mkfs for ${fs.type}`);
}
