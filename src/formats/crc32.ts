/**
 * CRC-32 as GPT uses it (UEFI spec §5.3.1): the IEEE 802.3 polynomial in reflected form
 * (0xEDB88320), initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF — the same CRC as zlib and
 * python's `binascii.crc32`.
 */

function reflectedTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? polynomial ^ (crc >>> 1) : crc >>> 1;
    table[byte] = crc >>> 0;
  }
  return table;
}

const CRC32_TABLE = reflectedTable(0xedb88320);
const CRC32C_TABLE = reflectedTable(0x82f63b78);

/** The reflected table-driven CRC loop, without pre- or post-inversion: every CRC below is this. */
function reflectedCrc(table: Uint32Array, seed: number, data: Uint8Array): number {
  let crc = seed >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}

/** CRC-32 of `data`, as an unsigned 32-bit number. `previous` continues a CRC over several buffers. */
export function crc32(data: Uint8Array, previous = 0): number {
  return (reflectedCrc(CRC32_TABLE, previous ^ 0xffffffff, data) ^ 0xffffffff) >>> 0;
}

/**
 * CRC-32C (Castagnoli, reflected 0x82F63B78) with no pre- or post-inversion: e2fsprogs'
 * `ext2fs_crc32c_le(seed, buf, len)` and the kernel's `crc32c()`, which ext4 metadata checksums use
 * (seeded with ~0 for the checksum seed itself, then chained).
 */
export function crc32cRaw(seed: number, data: Uint8Array): number {
  return reflectedCrc(CRC32C_TABLE, seed, data);
}

/**
 * CRC-32 (reflected 0xEDB88320) with no pre- or post-inversion, from `seed`: lvm2's `calc_crc`, which
 * seeds it with 0xf597a6cf for the PV label, the metadata area header and the metadata text.
 */
export function crc32Raw(seed: number, data: Uint8Array): number {
  return reflectedCrc(CRC32_TABLE, seed, data);
}
