/**
 * What dm-crypt does to each sector of a LUKS payload, done in-process so an offline build can write an
 * encrypted file system without device-mapper: AES in XTS mode, one sector at a time, the sector's
 * number as the tweak (IV "plain64": the number as 64 bits little-endian; "plain": its low 32 bits).
 *
 * The number counts 512-byte units from the start of the payload, whatever the encryption sector size:
 * dm-crypt counts larger units only with `iv_large_sectors`, which cryptsetup 2.6 does not ask for when it
 * opens a LUKS2 volume with 4096-byte sectors (its `dmsetup table` reads "… 1 sector_size:4096"; the VM
 * check showed a file system encrypted with larger units does not survive the round trip).
 */
import { createCipheriv } from "node:crypto";

export interface SectorCipher {
  algorithm: "aes-128-xts" | "aes-256-xts";
  key: Buffer;
  iv: "plain64" | "plain";
  /** The encryption unit: 512 (LUKS1) or what LUKS2's segment says (4096 on most devices). */
  sectorBytes: number;
}

/** The XTS ciphers this module can apply, by cryptsetup's cipher spec and key size; undefined otherwise. */
export function xtsCipherFor(
  spec: string,
  keyBytes: number,
): Pick<SectorCipher, "algorithm" | "iv"> | undefined {
  const match = /^aes-xts-(plain64|plain)$/.exec(spec);
  if (!match) return undefined;
  const algorithm = keyBytes === 32 ? "aes-128-xts" : keyBytes === 64 ? "aes-256-xts" : undefined;
  return algorithm ? { algorithm, iv: match[1] as "plain64" | "plain" } : undefined;
}

/**
 * Encrypts whole sectors of `plaintext` (a multiple of sectorBytes) that start at payload sector
 * `firstSector` (in sectorBytes units). Returns a new buffer of the same length.
 */
export function encryptSectors(cipher: SectorCipher, plaintext: Buffer, firstSector: number): Buffer {
  const { sectorBytes } = cipher;
  if (plaintext.length % sectorBytes !== 0)
    throw new Error(
      `internal: ${plaintext.length} bytes is not a whole number of ${sectorBytes}-byte sectors`,
    );
  const out = Buffer.allocUnsafe(plaintext.length);
  const iv = Buffer.alloc(16);
  const ivPerSector = sectorBytes / 512;
  for (let at = 0; at < plaintext.length; at += sectorBytes) {
    const number = (firstSector + at / sectorBytes) * ivPerSector;
    iv.fill(0);
    if (cipher.iv === "plain64") iv.writeBigUInt64LE(BigInt(number), 0);
    else iv.writeUInt32LE(number % 2 ** 32, 0);
    const engine = createCipheriv(cipher.algorithm, cipher.key, iv);
    const written = engine.update(plaintext.subarray(at, at + sectorBytes)).copy(out, at);
    engine.final().copy(out, at + written);
  }
  return out;
}
