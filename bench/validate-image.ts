/**
 * Every benchmark output is read back with tools none of the contenders' authors wrote for this bench:
 * sfdisk for the table, fsck.vfat / e2fsck for the file systems, mdir and e2fsck's counts for the files.
 * A fast wrong image must not win, so an output that fails here is reported as failed, not timed.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../src/core/runner.js";

export const ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
/** "Linux root (x86-64)": sgdisk 8304, repart's Type=root on this architecture. */
export const ROOT_TYPE = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";

export interface ExpectedContent {
  espSizeBytes: number;
  /** The root partition fills the rest; its exact size depends on each tool's alignment at the end. */
  rootMinBytes: number;
  espFiles: number;
  rootRegularInodes: number;
  rootHardLinks: number;
  rootSymlinks: number;
}

/** A file system somewhere in a file: its own file, or a range of a disk image. */
interface FsRange {
  file: string;
  offsetBytes: number;
  sizeBytes: number;
}

interface SfdiskTable {
  partitiontable: {
    label: string;
    sectorsize?: number;
    partitions: { start: number; size: number; type: string }[];
  };
}

/** Validates a GPT disk image; returns undefined when good, else what is wrong. */
export async function validateDisk(
  image: string,
  expected: ExpectedContent,
  scratchDir: string,
): Promise<string | undefined> {
  const { stdout } = await runCommand(["sfdisk", "-J", image], { purpose: "read the partition table" });
  const table = (JSON.parse(stdout) as SfdiskTable).partitiontable;
  const sector = table.sectorsize ?? 512;
  const types = table.partitions.map((partition) => partition.type.toUpperCase());
  if (table.label !== "gpt" || types.join() !== [ESP_TYPE, ROOT_TYPE].join()) {
    return `expected GPT with ESP + root, sfdisk shows ${table.label}: ${types.join(", ") || "no partitions"}`;
  }
  const [esp, root] = table.partitions.map((partition) => ({
    file: image,
    offsetBytes: partition.start * sector,
    sizeBytes: partition.size * sector,
  }));
  if (esp!.sizeBytes !== expected.espSizeBytes) return `ESP is ${esp!.sizeBytes} bytes`;
  if (root!.sizeBytes < expected.rootMinBytes) return `root partition is only ${root!.sizeBytes} bytes`;
  return (await checkVfat(esp!, expected, scratchDir)) ?? (await checkExt4(root!, expected));
}

/** The floor has no table: its two file system files are checked directly. */
export async function validateFloor(
  espFile: string,
  rootFile: string,
  expected: ExpectedContent,
  scratchDir: string,
): Promise<string | undefined> {
  const esp = { file: espFile, offsetBytes: 0, sizeBytes: expected.espSizeBytes };
  const root = { file: rootFile, offsetBytes: 0, sizeBytes: expected.rootMinBytes };
  return (await checkVfat(esp, expected, scratchDir)) ?? (await checkExt4(root, expected));
}

async function checkVfat(range: FsRange, expected: ExpectedContent, scratchDir: string) {
  // fsck.vfat has no offset option: copy the partition out (sparse, so only its data is written).
  let file = range.file;
  if (range.offsetBytes > 0) {
    file = join(scratchDir, "esp-copy.vfat");
    await runCommand(
      [
        "dd",
        `if=${range.file}`,
        `of=${file}`,
        "bs=1M",
        `skip=${range.offsetBytes}`,
        `count=${range.sizeBytes}`,
        "iflag=skip_bytes,count_bytes",
        "conv=sparse",
        "status=none",
      ],
      { purpose: "copy the ESP out for fsck.vfat" },
    );
  }
  try {
    await runCommand(["fsck.vfat", "-n", file], { purpose: "check the ESP" });
    const { stdout } = await runCommand(["mdir", "-/", "-b", "-i", file, "::/"], {
      purpose: "list the ESP",
      env: { MTOOLS_SKIP_CHECK: "1" },
    });
    const files = stdout.split("\n").filter((line) => line !== "" && !line.endsWith("/")).length;
    if (files !== expected.espFiles) return `ESP holds ${files} files, expected ${expected.espFiles}`;
    return undefined;
  } catch (error) {
    return `ESP: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    if (file !== range.file) rmSync(file, { force: true });
  }
}

async function checkExt4(range: FsRange, expected: ExpectedContent) {
  // e2fsprogs' unix I/O manager takes "FILE?offset=N", so the root is checked in place.
  const device = range.offsetBytes > 0 ? `${range.file}?offset=${range.offsetBytes}` : range.file;
  try {
    const { stdout } = await runCommand(["e2fsck", "-fnv", device], { purpose: "check the root fs" });
    const count = (what: string) => Number(new RegExp(`(\\d+) ${what}\\b`).exec(stdout)?.[1] ?? -1);
    const found = [count("regular files"), count("links"), count("symbolic links")];
    const wanted = [expected.rootRegularInodes, expected.rootHardLinks, expected.rootSymlinks];
    if (found.join() !== wanted.join()) {
      return `root fs holds ${found.join("/")} regular files/links/symlinks, expected ${wanted.join("/")}`;
    }
    // With an offset e2fsck sees the rest of the image, so a file system overrunning its partition
    // would pass; compare its own size with the range.
    const header = (await runCommand(["dumpe2fs", "-h", device], { purpose: "read the superblock" })).stdout;
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(header)?.[1] ?? NaN);
    const fsBytes = field("Block count") * field("Block size");
    if (!(fsBytes <= range.sizeBytes)) return `root fs is ${fsBytes} bytes, its range ${range.sizeBytes}`;
    return undefined;
  } catch (error) {
    return `root fs: ${error instanceof Error ? error.message : String(error)}`;
  }
}
