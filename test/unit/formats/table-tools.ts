/**
 * What the format tests share: the partitioning tools and DIB as oracles, sparse temp images, and a
 * dump of an image's non-zero sectors (so "wrote exactly these bytes and nothing else" is one compare).
 */
import { spawnSync } from "node:child_process";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applySectorWrites } from "../../../src/formats/apply.js";
import { gptGeometry } from "../../../src/formats/gpt.js";
import { deriveUuid, purposes } from "../../../src/formats/identifiers.js";
import type { DiskPlan, PartitionPlan } from "../../../src/plan/types.js";
import type { SectorWrite } from "../../../src/formats/sector-write.js";

export const SYSTEM_PYTHON = "/usr/bin/python3";
/** sfdisk and sgdisk live in /usr/sbin, which is not on a non-root user's PATH on Debian. */
const TOOL_ENV = { ...process.env, PATH: [process.env.PATH ?? "", "/usr/sbin", "/sbin"].join(":") };

export function run(argv: string[], input?: string): string {
  const [command, ...args] = argv;
  const result = spawnSync(command!, args, { encoding: "utf8", env: TOOL_ENV, input });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${argv.join(" ")} exited with ${result.status}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

function missing(argv: string[]): string | undefined {
  const [command, ...args] = argv;
  const probe = spawnSync(command!, args, { encoding: "utf8", env: TOOL_ENV });
  if (probe.error) return `${command} is not available (${probe.error.message})`;
  if (probe.status !== 0) return `${argv.join(" ")} failed: ${probe.stderr.trim()}`;
  return undefined;
}

const PROBES: Record<string, string[]> = {
  sfdisk: ["sfdisk", "--version"],
  sgdisk: ["sgdisk", "--version"],
  fdisk: ["fdisk", "--version"],
  dib: [SYSTEM_PYTHON, "-c", "import diskimage_builder.block_device.level1.mbr"],
  python: [SYSTEM_PYTHON, "-c", "import binascii, uuid"],
};

/**
 * `false` when every tool is there; else the reason to skip, printed. With CI=true a missing tool
 * throws, so a CI run cannot pass by skipping.
 */
export function skipUnless(...tools: (keyof typeof PROBES)[]): string | false {
  for (const tool of tools) {
    const reason = missing(PROBES[tool]!);
    if (reason === undefined) continue;
    if (process.env.CI === "true") throw new Error(`CI=true but ${reason}`);
    console.log(`# skipped: ${reason}`);
    return reason;
  }
  return false;
}

/** A temp directory; `remove()` belongs in after(), which runs even when tests fail. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function sparseFile(path: string, sizeBytes: number, writes: SectorWrite[] = []): string {
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, sizeBytes);
    applySectorWrites(fd, writes);
  } finally {
    closeSync(fd);
  }
  return path;
}

const DUMP_SCRIPT = String.raw`
import json, os, sys
path = sys.argv[1]
size = os.path.getsize(path)
out = {}
fd = os.open(path, os.O_RDONLY)
try:
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            break
        end = os.lseek(fd, start, os.SEEK_HOLE)
        if end - start > 256 * 1024 * 1024:
            sys.exit("data extent too large: the file system does not report holes")
        os.lseek(fd, start, os.SEEK_SET)
        data = os.read(fd, end - start)
        for off in range(0, len(data), 512):
            chunk = data[off:off + 512]
            if any(chunk):
                out[str((start + off) // 512)] = chunk.hex()
        pos = end
finally:
    os.close(fd)
print(json.dumps(out))
`;

/** Every non-zero 512-byte sector of a sparse image, by sector number, as hex. */
export function nonZeroSectors(path: string): Record<string, string> {
  return JSON.parse(run([SYSTEM_PYTHON, "-c", DUMP_SCRIPT, path])) as Record<string, string>;
}

/** The same map built from writes (what the image must contain if it started all zeros). */
export function sectorsOfWrites(writes: SectorWrite[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const write of writes) {
    for (let off = 0; off < write.data.length; off += 512) {
      const chunk = write.data.subarray(off, off + 512);
      if (chunk.some((byte) => byte !== 0))
        out[String((write.offsetBytes + off) / 512)] = chunk.toString("hex");
    }
  }
  return out;
}

/**
 * A GPT disk built by hand: partitions back to back from 1 MiB, each `[name, sizeSectors, type GUID, boot]`.
 */
export function handGptDisk(
  sectorSize: number,
  totalSectors: number,
  parts: [string, number, string, boolean][],
): DiskPlan {
  const geometry = gptGeometry(totalSectors, sectorSize);
  let next = 2 ** 20 / sectorSize;
  const partitions: PartitionPlan[] = parts.map(([name, sizeSectors, type, boot], index) => {
    const startSector = next;
    next += sizeSectors;
    return {
      name,
      number: index + 1,
      role: "gpt",
      startSector,
      sizeSectors,
      startBytes: startSector * sectorSize,
      sizeBytes: sizeSectors * sectorSize,
      type,
      typeCode: "",
      flags: boot ? ["boot"] : [],
      gptName: name,
    };
  });
  return {
    name: "image0",
    kind: "local_loop",
    path: "image0.raw",
    sizeBytes: totalSectors * sectorSize,
    sectorSize,
    label: "gpt",
    partitioning: "p",
    alignBytes: 2 ** 20,
    firstUsableSector: geometry.firstUsableLba,
    lastUsableSector: geometry.lastUsableLba,
    partitions,
  };
}

/** Disk and partition GUIDs derived from `seed`, as device mode derives them with --seed. */
export function seededGuids(seed: string, disk: DiskPlan): { diskGuid: string; partitionGuids: string[] } {
  return {
    diskGuid: deriveUuid(seed, purposes.gptDisk(disk.name)),
    partitionGuids: disk.partitions.map((p) => deriveUuid(seed, purposes.gptPartition(disk.name, p.name))),
  };
}
