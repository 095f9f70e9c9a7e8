/**
 * Identifiers written into on-disk formats (GPT disk and partition GUIDs, the MBR disk signature).
 *
 * With a seed they are derived deterministically, so the same config and seed give byte-identical
 * images (reproducible builds); without one they are random, as DIB's and sgdisk's are.
 *
 * Derivation is RFC 4122 version 5 (SHA-1, name-based): namespace `BLOCKSMITH_NAMESPACE`, name
 * `${seed}\0${purpose}` in UTF-8. The NUL keeps ("ab", "c") and ("a", "bc") apart.
 *
 * Purpose strings in use — keep them stable, changing one changes every seeded image:
 * - `gpt-disk:<disk>`               the GPT disk GUID, e.g. `gpt-disk:image0`
 * - `gpt-partition:<disk>:<node>`   a GPT partition's unique GUID, e.g. `gpt-partition:image0:root`
 * - `mbr-signature:<disk>`          the 32-bit MBR disk signature at offset 440, e.g. `mbr-signature:image0`
 * - `luks:<node>`                   a LUKS header's UUID (`cryptsetup luksFormat --uuid`), e.g. `luks:cryptroot`
 * - `md-array:<node>`               an md array's UUID (`mdadm --create --uuid`), e.g. `md-array:md0`
 * - `lvm-pv:<node>`, `lvm-vg:<vg>`, `lvm-lv:<vg>/<lv>`  LVM ids (offline mode writes the metadata itself)
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";

/** uuid5(NAMESPACE_URL, "urn:blocksmith:identifiers"). */
export const BLOCKSMITH_NAMESPACE = "d6a02873-40df-54de-83a3-0fc7462c3988";

export const purposes = {
  gptDisk: (disk: string): string => `gpt-disk:${disk}`,
  gptPartition: (disk: string, partition: string): string => `gpt-partition:${disk}:${partition}`,
  mbrSignature: (disk: string): string => `mbr-signature:${disk}`,
  luks: (node: string): string => `luks:${node}`,
  mdArray: (node: string): string => `md-array:${node}`,
  lvmPv: (node: string): string => `lvm-pv:${node}`,
  lvmVg: (vg: string): string => `lvm-vg:${vg}`,
  lvmLv: (vg: string, lv: string): string => `lvm-lv:${vg}/${lv}`,
} as const;

/** Canonical (lower-case, hyphenated) text form of 16 bytes in RFC 4122 (big-endian) order. */
export function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.subarray(0, 16)).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of a UUID in RFC 4122 (big-endian) order. */
export function parseUuid(text: string): Buffer {
  if (!UUID_PATTERN.test(text)) throw new Error(`not a UUID: ${JSON.stringify(text)}`);
  return Buffer.from(text.replaceAll("-", ""), "hex");
}

function digest(seed: string, purpose: string): Buffer {
  return createHash("sha1")
    .update(parseUuid(BLOCKSMITH_NAMESPACE))
    .update(`${seed}\0${purpose}`, "utf8")
    .digest();
}

/** A version-5 UUID for `purpose`, derived from `seed`. Lower case, as RFC 4122 prints it. */
export function deriveUuid(seed: string, purpose: string): string {
  const bytes = digest(seed, purpose).subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return formatUuid(bytes);
}

/**
 * A 32-bit MBR disk signature for `purpose`, derived from `seed` (the first four digest bytes,
 * little-endian). Never 0: tools treat a zero signature as "none" and Windows rewrites it.
 */
export function deriveMbrSignature(seed: string, purpose: string): number {
  const value = digest(seed, purpose).readUInt32LE(0);
  return value === 0 ? 1 : value;
}

export function randomUuidV4(): string {
  return randomUUID();
}

/** A random non-zero 32-bit disk signature (DIB draws `random.randint(0, 0xFFFFFFFF)`). */
export function randomMbrSignature(): number {
  for (;;) {
    const value = randomBytes(4).readUInt32LE(0);
    if (value !== 0) return value;
  }
}

/** The characters of an lvm2 id (`_c` in lib/uuid/uuid.c, less "!#", which lvm itself never draws). */
const LVM_ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

function lvmIdFrom(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 32), (byte) => LVM_ID_CHARS[byte % LVM_ID_CHARS.length]!).join("");
}

/** An lvm2 PV/VG/LV id (32 characters, without the dashes lvm prints) for `purpose`, derived from `seed`. */
export function deriveLvmId(seed: string, purpose: string): string {
  return lvmIdFrom(
    createHash("sha256")
      .update(parseUuid(BLOCKSMITH_NAMESPACE))
      .update(`${seed}\0${purpose}`, "utf8")
      .digest(),
  );
}

/** Identifiers for one build: derived when a seed is given, random otherwise. */
export interface IdentifierSource {
  uuid(purpose: string): string;
  mbrSignature(purpose: string): number;
  lvmId(purpose: string): string;
}

export function identifierSource(seed: string | undefined): IdentifierSource {
  if (seed === undefined)
    return {
      uuid: () => randomUuidV4(),
      mbrSignature: () => randomMbrSignature(),
      lvmId: () => lvmIdFrom(randomBytes(32)),
    };
  return {
    uuid: (purpose) => deriveUuid(seed, purpose),
    mbrSignature: (purpose) => deriveMbrSignature(seed, purpose),
    lvmId: (purpose) => deriveLvmId(seed, purpose),
  };
}
