/**
 * The benchmark's input: a deterministic root file system tree. The same seed gives the same names, sizes,
 * bytes, modes and mtimes on every machine, so numbers from different runs describe the same work.
 * The size mix imitates a distribution root (many small files, some of a few MiB, a few large ones),
 * because per-file overhead and bulk copy speed are different costs and a benchmark should pay both.
 *   node dist/bench/generate-tree.js DIR [SEED]
 */
import { createCipheriv, createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;

export interface TreeSpec {
  seed: string;
  /** Regular files under the root file system (the ESP's files come on top). */
  rootFileCount: number;
  /** Bytes of regular-file data under the root file system, hit exactly by sizing the large files. */
  rootDataBytes: number;
}

export const DEFAULT_TREE: TreeSpec = {
  seed: "blocksmith-bench-1",
  rootFileCount: 20_000,
  rootDataBytes: 600 * MiB,
};

export interface TreeSummary {
  /** Regular-file inodes in the root subtree (hard links share one), what e2fsck -v reports. */
  rootRegularInodes: number;
  rootNames: number;
  rootDataBytes: number;
  directories: number;
  symlinks: number;
  hardLinks: number;
  espFiles: number;
  espDataBytes: number;
  /** sha256 of the manifest (paths, kinds, sizes, modes, mtimes); equal digests mean equal trees. */
  manifestDigest: string;
}

/** sfc32: small, fast, and fully specified, so the tree does not depend on Node's Math.random. */
function makeRandom(seed: string): () => number {
  const words = createHash("sha256").update(seed).digest();
  let a = words.readUInt32LE(0);
  let b = words.readUInt32LE(4);
  let c = words.readUInt32LE(8);
  let d = words.readUInt32LE(12);
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** Log-uniform sizes: as many files of 1–2 KiB as of 32–64 KiB, roughly how real trees look. */
function logUniform(random: () => number, min: number, max: number): number {
  return Math.floor(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))));
}

const TOP_DIRS = ["usr", "etc", "var", "opt", "srv", "home", "lib", "share"];
const WORDS = ["core", "data", "util", "net", "conf", "cache", "doc", "locale", "font", "theme", "mod", "x"];
const EXTENSIONS = [".so", ".py", ".conf", ".txt", ".json", ".h", ".mo", ".gz", "", ".html", ".png"];

interface PlannedFile {
  path: string;
  sizeBytes: number;
  mode: number;
  mtime: number;
}

/** Files an ESP really holds; sizes are in the range of the real binaries. */
const ESP_FILES: readonly (readonly [string, number])[] = [
  ["EFI/BOOT/BOOTX64.EFI", 950 * 1024],
  ["EFI/BOOT/fbx64.efi", 88 * 1024],
  ["EFI/BOOT/mmx64.efi", 850 * 1024],
  ["EFI/debian/shimx64.efi", 950 * 1024],
  ["EFI/debian/grubx64.efi", 2 * MiB + 300 * 1024],
  ["EFI/debian/grub.cfg", 112],
  ["EFI/debian/BOOTX64.CSV", 108],
];

/** The ESP subtree, relative to the root; mount point of the vfat partition. */
export const ESP_DIR = "boot/efi";

/** AES-CTR keystream keyed by seed and file: fast (GB/s), incompressible, reproducible byte for byte. */
function writeContent(rootDir: string, relativePath: string, sizeBytes: number, seed: string, mode: number) {
  const key = createHash("sha256").update(seed).digest();
  const iv = createHash("md5").update(relativePath).digest();
  const path = join(rootDir, relativePath);
  const cipher = createCipheriv("aes-256-ctr", key, iv);
  const fd = openSync(path, "w", mode);
  try {
    const zeros = Buffer.alloc(Math.min(sizeBytes, MiB));
    for (let written = 0; written < sizeBytes;) {
      const chunk = cipher.update(zeros.subarray(0, Math.min(zeros.length, sizeBytes - written)));
      writeSync(fd, chunk);
      written += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode); // the umask must not decide the mode
}

/**
 * Writes the tree under rootDir. Without espContents, boot/efi stays an empty mount point: the input of
 * tools that fill one file system from one directory. Both variants draw the same random numbers, so
 * everything outside boot/efi is identical, and writing it again is faster than copying it (cp -a of
 * this tree took 14 s where generating it takes 5).
 */
export function generateTree(
  rootDir: string,
  spec: TreeSpec = DEFAULT_TREE,
  espContents = true,
): TreeSummary {
  const random = makeRandom(spec.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const baseMtime = 1_700_000_000; // fixed, so mtimes do not follow the clock
  const mtime = () => baseMtime + Math.floor(random() * 365 * 86_400);

  // Directories: random nesting under a few top-level ones, at most 6 deep like /usr/share/x/y/z/w.
  const directories: { path: string; depth: number; mode: number; mtime: number }[] = TOP_DIRS.map(
    (name) => ({ path: name, depth: 1, mode: 0o755, mtime: mtime() }),
  );
  const directoryCount = Math.round(spec.rootFileCount / 20);
  while (directories.length < directoryCount) {
    const parent = pick(directories);
    if (parent.depth >= 6) continue;
    const path = `${parent.path}/${pick(WORDS)}${directories.length}`;
    directories.push({
      path,
      depth: parent.depth + 1,
      mode: random() < 0.05 ? 0o700 : 0o755,
      mtime: mtime(),
    });
  }

  // Regular files: 2 % empty, the bulk small, 7.5 % of 64–256 KiB, 86 of 1–4 MiB, 4 large ones that
  // take the remaining bytes so the total is exact whatever the draws were.
  const hardLinkCount = 10;
  const largeCount = 4;
  const mibCount = 86;
  const regularCount = spec.rootFileCount - hardLinkCount;
  const mediumCount = Math.round(regularCount * 0.075);
  const files: PlannedFile[] = [];
  let bytes = 0;
  for (let index = 0; index < regularCount - largeCount; index += 1) {
    const draw = random();
    const sizeBytes =
      index < mibCount
        ? logUniform(random, MiB, 4 * MiB)
        : index < mibCount + mediumCount
          ? logUniform(random, 64 * 1024, 256 * 1024)
          : draw < 0.02
            ? 0
            : logUniform(random, 1, 64 * 1024);
    const mode = draw < 0.1 ? 0o755 : draw < 0.15 ? 0o600 : 0o644;
    const path = `${pick(directories).path}/${pick(WORDS)}-${index}${pick(EXTENSIONS)}`;
    files.push({ path, sizeBytes, mode, mtime: mtime() });
    bytes += sizeBytes;
  }
  const remaining = Math.max(spec.rootDataBytes - bytes, largeCount * 8 * MiB);
  const weights = Array.from({ length: largeCount }, () => 1 + random());
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  let largeBytes = 0;
  weights.forEach((weight, index) => {
    const sizeBytes =
      index === largeCount - 1 ? remaining - largeBytes : Math.floor((remaining * weight) / weightSum);
    largeBytes += sizeBytes;
    files.push({ path: `opt/big/blob-${index}.img`, sizeBytes, mode: 0o644, mtime: mtime() });
  });
  directories.push({ path: "opt/big", depth: 2, mode: 0o755, mtime: mtime() });
  directories.push({ path: "boot", depth: 1, mode: 0o755, mtime: mtime() });
  for (const espDirectory of new Set(ESP_FILES.map(([name]) => dirname(`${ESP_DIR}/${name}`)))) {
    for (let path = espDirectory; path !== "boot"; path = dirname(path)) {
      if (!directories.some((directory) => directory.path === path)) {
        directories.push({ path, depth: path.split("/").length, mode: 0o755, mtime: mtime() });
      }
    }
  }

  const manifest = createHash("sha256").update(espContents ? "" : "no ESP contents\n");
  const inEsp = (path: string) => path.startsWith(`${ESP_DIR}/`);
  const created = directories.filter((directory) => espContents || !inEsp(directory.path));
  for (const directory of created) {
    mkdirSync(join(rootDir, directory.path), { recursive: true });
    manifest.update(`d ${directory.path} ${directory.mode.toString(8)} ${directory.mtime}\n`);
  }
  for (const file of files) {
    const path = join(rootDir, file.path);
    writeContent(rootDir, file.path, file.sizeBytes, spec.seed, file.mode);
    utimesSync(path, file.mtime, file.mtime);
    manifest.update(`f ${file.path} ${file.sizeBytes} ${file.mode.toString(8)} ${file.mtime}\n`);
  }

  // Hard links and symlinks point at small files in other directories, as /usr/bin aliases do.
  const smallFiles = files.filter((file) => file.sizeBytes > 0 && file.sizeBytes < 64 * 1024);
  for (let index = 0; index < hardLinkCount; index += 1) {
    const target = pick(smallFiles);
    const path = `${pick(directories.slice(0, TOP_DIRS.length)).path}/hardlink-${index}`;
    linkSync(join(rootDir, target.path), join(rootDir, path));
    manifest.update(`h ${path} ${target.path}\n`);
  }
  const symlinkCount = 20;
  for (let index = 0; index < symlinkCount; index += 1) {
    const target = pick(smallFiles);
    const path = `${pick(directories.slice(0, TOP_DIRS.length)).path}/symlink-${index}`;
    const linkTime = mtime();
    symlinkSync(relative(dirname(path), target.path), join(rootDir, path));
    lutimesSync(join(rootDir, path), linkTime, linkTime);
    manifest.update(`l ${path} ${target.path} ${linkTime}\n`);
  }

  let espDataBytes = 0;
  for (const [name, sizeBytes] of ESP_FILES) {
    const path = join(rootDir, ESP_DIR, name);
    const fileTime = mtime();
    if (!espContents) continue;
    writeContent(rootDir, `${ESP_DIR}/${name}`, sizeBytes, spec.seed, 0o644);
    utimesSync(path, fileTime, fileTime);
    manifest.update(`e ${name} ${sizeBytes} ${fileTime}\n`);
    espDataBytes += sizeBytes;
  }

  // Directory mtimes last, deepest first: creating entries inside would move them again.
  for (const directory of [...created].sort((a, b) => b.depth - a.depth)) {
    chmodSync(join(rootDir, directory.path), directory.mode);
    utimesSync(join(rootDir, directory.path), directory.mtime, directory.mtime);
  }
  chmodSync(rootDir, 0o755);
  utimesSync(rootDir, baseMtime, baseMtime);

  return {
    rootRegularInodes: files.length,
    rootNames: files.length + hardLinkCount,
    rootDataBytes: bytes + largeBytes,
    directories: directories.length,
    symlinks: symlinkCount,
    hardLinks: hardLinkCount,
    espFiles: espContents ? ESP_FILES.length : 0,
    espDataBytes,
    manifestDigest: manifest.digest("hex"),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, seed] = process.argv.slice(2);
  if (dir === undefined) {
    console.error("usage: node dist/bench/generate-tree.js DIR [SEED]");
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  console.log(
    JSON.stringify(generateTree(dir, { ...DEFAULT_TREE, seed: seed ?? DEFAULT_TREE.seed }), null, 2),
  );
}
