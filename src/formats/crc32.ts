/**
 * CRC-32 as GPT uses it (UEFI spec §5.3.1): the IEEE 802.3 polynomial in reflected form
 * (0xEDB88320), initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF — the same CRC as zlib and
 * python's `binascii.crc32`.
 */

const CRC32_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    table[byte] = crc >>> 0;
  }
  return table;
})();

/** CRC-32 of `data`, as an unsigned 32-bit number. `previous` continues a CRC over several buffers. */
export function crc32(data: Uint8Array, previous = 0): number {
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) {
    crc = CRC32_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
