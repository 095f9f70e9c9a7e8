/**
 * LUKS size math: where `cryptsetup luksFormat` puts the encrypted data and how big the opened mapping
 * is, reproducing cryptsetup 2.6.1 (Debian 12) on a device without topology hints (loop devices,
 * partitions). Measured by test/vm/measure-level1.sh (test/fixtures/level1-measurements.txt).
 */
import { LayoutProblem } from "../../../core/errors.js";
import { formatBytes } from "../../../core/size.js";
import type { EncryptedPlan } from "../../../plan/types.js";

const SECTOR_BYTES = 512;
const MiB = 1024 * 1024;

export type LuksType = "luks1" | "luks2";

/**
 * cryptsetup 2.6.1's compiled-in defaults, from `cryptsetup --help` and confirmed by luksDump of a
 * luksFormat without -c/-s/--pbkdf: aes-xts-plain64 with a 512-bit key (--help says 256 bits, "doubled"
 * for XTS's two keys), sha256, pbkdf2 for LUKS1 and argon2id for LUKS2, LUKS2 when no --type is given.
 */
export const LUKS_DEFAULTS = {
  type: "luks2",
  cipher: "aes-xts-plain64",
  keySizeBits: 512,
  hash: "sha256",
  pbkdf: { luks1: "pbkdf2", luks2: "argon2id" },
  iterationTimeMs: 2000,
  /** argon2 only. */
  memoryKiB: 1048576,
  parallelThreads: 4,
  sectorSizeBytes: 512,
} as const;

/** LUKS2 data offset with default metadata (2 × 16 KiB) and keyslot area: 16 MiB, for any key size. */
export const LUKS2_DEFAULT_DATA_OFFSET_BYTES = 16 * MiB;

// LUKS1 on-disk layout (cryptsetup lib/luks1: LUKS_generate_phdr): 8 keyslots, each holding the key
// split into 4000 anti-forensic stripes, each keyslot aligned to 4 KiB, the payload then aligned to the
// default 1 MiB alignment.
const LUKS1_KEYSLOTS = 8;
const LUKS1_STRIPES = 4000;
const LUKS1_KEYSLOT_ALIGN_SECTORS = 4096 / SECTOR_BYTES;
const LUKS1_PAYLOAD_ALIGN_SECTORS = MiB / SECTOR_BYTES;

export interface LuksLayoutInput {
  type: LuksType;
  baseSizeBytes: number;
  /** Default 512. */
  keySizeBits?: number;
  /** Default aes-xts-plain64. */
  cipher?: string;
  /** LUKS2 only (default argon2id); LUKS1 always gets pbkdf2, whatever is asked. */
  pbkdf?: string;
  /** LUKS2 `--sector-size`; default 512 (what cryptsetup picks on loop devices; measured). */
  sectorSizeBytes?: number;
}

export type LuksLayout = Pick<
  EncryptedPlan,
  "luksType" | "cipher" | "keySizeBits" | "pbkdf" | "payloadOffsetBytes" | "baseSizeBytes" | "sizeBytes"
> & { sectorSizeBytes: number };

const roundUp = (value: number, alignment: number): number => Math.ceil(value / alignment) * alignment;

/**
 * LUKS1 payload offset in bytes: 8 keyslots of ceil(keyBytes × 4000 / 512) sectors, each rounded up to
 * 4 KiB, after a 4 KiB header; the total rounded up to 1 MiB. Measured: 2 MiB for 512- and 256-bit keys,
 * 1 MiB for 128-bit keys.
 */
export function luks1PayloadOffsetBytes(keySizeBits: number): number {
  const keyBytes = keySizeBits / 8;
  const keyslotSectors = Math.ceil((keyBytes * LUKS1_STRIPES) / SECTOR_BYTES);
  let sector = LUKS1_KEYSLOT_ALIGN_SECTORS;
  for (let slot = 0; slot < LUKS1_KEYSLOTS; slot += 1) {
    sector = roundUp(sector + keyslotSectors, LUKS1_KEYSLOT_ALIGN_SECTORS);
  }
  return roundUp(sector, LUKS1_PAYLOAD_ALIGN_SECTORS) * SECTOR_BYTES;
}

function checkKeySize(cipher: string, keySizeBits: number): void {
  if (!Number.isInteger(keySizeBits) || keySizeBits <= 0 || keySizeBits % 8 !== 0) {
    throw new LayoutProblem(
      `key size ${keySizeBits} is not a positive multiple of 8 bits`,
      undefined,
      "key-size",
    );
  }
  const [algorithm = "", mode = ""] = cipher.split("-");
  if (algorithm !== "aes") return;
  // The kernel's AES takes 128-, 192- or 256-bit keys; XTS needs two of them. Measured: aes-xts with
  // 128 bits fails, with 256 and 512 works; aes-cbc with 128 and 256 works.
  const allowed = mode === "xts" ? [256, 384, 512] : [128, 192, 256];
  if (!allowed.includes(keySizeBits)) {
    throw new LayoutProblem(
      `${cipher} does not take a ${keySizeBits}-bit key`,
      undefined,
      "key-size",
      `use ${allowed.join(", ")} bits`,
    );
  }
}

/**
 * What `cryptsetup luksFormat --type TYPE [-c CIPHER] [-s BITS] [--sector-size N]` on a device of
 * `baseSizeBytes`, then `cryptsetup open`, give: the payload (data) offset and the mapped device's size.
 * Throws LayoutProblem when no data would fit or the size does not match the encryption sector size.
 */
export function layoutLuks(input: LuksLayoutInput): LuksLayout {
  const cipher = input.cipher ?? LUKS_DEFAULTS.cipher;
  const keySizeBits = input.keySizeBits ?? LUKS_DEFAULTS.keySizeBits;
  // A LUKS1 keyslot can only hold PBKDF2; cryptsetup accepts `--pbkdf argon2id` with `--type luks1` and
  // writes PBKDF2 anyway (measured), so that is what ends up on disk.
  const pbkdf = input.type === "luks1" ? "pbkdf2" : (input.pbkdf ?? LUKS_DEFAULTS.pbkdf.luks2);
  if (!/^[a-z0-9_]+-[a-z0-9_-]+(:[a-z0-9_]+)?$/i.test(cipher)) {
    throw new LayoutProblem(
      `cipher "${cipher}" is not of the form name-mode[:hash]`,
      undefined,
      "cipher",
      'e.g. "aes-xts-plain64"',
    );
  }
  checkKeySize(cipher, keySizeBits);
  const sectorSizeBytes = input.sectorSizeBytes ?? LUKS_DEFAULTS.sectorSizeBytes;
  if (input.type === "luks1" && sectorSizeBytes !== SECTOR_BYTES) {
    throw new LayoutProblem(
      "LUKS1 only supports 512-byte encryption sectors",
      undefined,
      "type",
      "use type: luks2",
    );
  }
  if (![512, 1024, 2048, 4096].includes(sectorSizeBytes)) {
    throw new LayoutProblem(`encryption sector size ${sectorSizeBytes} is not 512, 1024, 2048 or 4096 bytes`);
  }
  const payloadOffsetBytes =
    input.type === "luks1" ? luks1PayloadOffsetBytes(keySizeBits) : LUKS2_DEFAULT_DATA_OFFSET_BYTES;
  // A block device is a whole number of 512-byte sectors; dm-crypt maps everything after the offset.
  const baseBytes = Math.floor(input.baseSizeBytes / SECTOR_BYTES) * SECTOR_BYTES;
  const sizeBytes = baseBytes - payloadOffsetBytes;
  if (sizeBytes < sectorSizeBytes) {
    // luksFormat itself succeeds when the header exactly fills the device, but open fails (measured).
    throw new LayoutProblem(
      `the ${input.type.toUpperCase()} header takes the first ${formatBytes(payloadOffsetBytes)} of the device, which has ` +
        `${input.baseSizeBytes} bytes: ${payloadOffsetBytes + sectorSizeBytes - baseBytes} bytes too few for any data`,
      undefined,
      "base",
      `make the device bigger than ${formatBytes(payloadOffsetBytes)}`,
    );
  }
  if (sizeBytes % sectorSizeBytes !== 0) {
    // cryptsetup: "Device size is not aligned to requested sector size." (measured for 4096).
    const remainder = sizeBytes % sectorSizeBytes;
    throw new LayoutProblem(
      `the data area (${sizeBytes} bytes after the ${formatBytes(payloadOffsetBytes)} header) is not a multiple of the ` +
        `${sectorSizeBytes}-byte encryption sector: ${remainder} bytes too many`,
      undefined,
      "base",
      `make the device ${remainder} bytes smaller or ${sectorSizeBytes - remainder} bytes bigger, or use 512-byte sectors`,
    );
  }
  return {
    luksType: input.type,
    cipher,
    keySizeBits,
    pbkdf,
    sectorSizeBytes,
    payloadOffsetBytes,
    baseSizeBytes: input.baseSizeBytes,
    sizeBytes,
  };
}
