import assert from "node:assert/strict";
import { createDecipheriv, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import {
  encryptSectors,
  encryptSectorsBatched,
  encryptSectorsEach,
  xtsCipherFor,
  type SectorCipher,
} from "../../../src/formats/dm-crypt.js";
import { parseLuksDump } from "../../../src/nodes/level1/luks/offline.js";

const KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => i));

/** Decrypts one sector the way dm-crypt reads it: XTS with the 512-byte sector number as the tweak. */
function decryptSector(cipher: SectorCipher, data: Buffer, ivNumber: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64LE(BigInt(ivNumber));
  const engine = createDecipheriv(cipher.algorithm, cipher.key, iv);
  return Buffer.concat([engine.update(data), engine.final()]);
}

describe("dm-crypt sector encryption", () => {
  it("maps cryptsetup's XTS specs to ciphers by key size, and nothing else", () => {
    assert.deepEqual(xtsCipherFor("aes-xts-plain64", 64), { algorithm: "aes-256-xts", iv: "plain64" });
    assert.deepEqual(xtsCipherFor("aes-xts-plain", 32), { algorithm: "aes-128-xts", iv: "plain" });
    assert.equal(xtsCipherFor("aes-xts-plain64", 48), undefined);
    assert.equal(xtsCipherFor("aes-cbc-essiv:sha256", 32), undefined);
    assert.equal(xtsCipherFor("serpent-xts-plain64", 64), undefined);
  });

  it("tweaks every sector with its number in 512-byte units, 4096-byte sectors too", () => {
    const cipher: SectorCipher = { algorithm: "aes-256-xts", iv: "plain64", key: KEY, sectorBytes: 4096 };
    const plain = Buffer.alloc(3 * 4096);
    for (let i = 0; i < plain.length; i += 1) plain[i] = (i * 7) % 251;
    const encrypted = encryptSectors(cipher, plain, 5);
    assert.notDeepEqual(encrypted.subarray(0, 4096), plain.subarray(0, 4096));
    for (let sector = 0; sector < 3; sector += 1) {
      const slice = encrypted.subarray(sector * 4096, (sector + 1) * 4096);
      assert.deepEqual(
        decryptSector(cipher, slice, (5 + sector) * 8),
        plain.subarray(sector * 4096, (sector + 1) * 4096),
      );
    }
    // Equal plaintext sectors encrypt differently: the tweak is in use.
    const zeros = encryptSectors(cipher, Buffer.alloc(2 * 4096), 0);
    assert.notDeepEqual(zeros.subarray(0, 4096), zeros.subarray(4096));
    assert.throws(
      () => encryptSectors(cipher, Buffer.alloc(512), 0),
      /not a whole number of 4096-byte sectors/,
    );
  });

  it("batched XTS gives OpenSSL's XTS bytes, for every key size, IV kind and sector size", () => {
    const plain = randomBytes(64 * 1024);
    for (const algorithm of ["aes-128-xts", "aes-256-xts"] as const)
      for (const iv of ["plain64", "plain"] as const)
        for (const sectorBytes of [512, 4096])
          // Sector numbers past 2^32 (in 512-byte units): "plain" keeps only the low 32 bits.
          for (const firstSector of [0, 3, 2 ** 32 / (sectorBytes / 512) - 2]) {
            const key = randomBytes(algorithm === "aes-128-xts" ? 32 : 64);
            const cipher: SectorCipher = { algorithm, iv, key, sectorBytes };
            assert.deepEqual(
              encryptSectorsBatched(cipher, plain, firstSector),
              encryptSectorsEach(cipher, plain, firstSector),
              `${algorithm} ${iv} ${sectorBytes} from ${firstSector}`,
            );
          }
  });

  it("refuses an XTS key whose halves are equal, as IEEE 1619 and OpenSSL do", () => {
    const cipher: SectorCipher = {
      algorithm: "aes-256-xts",
      iv: "plain64",
      key: Buffer.alloc(64, 7),
      sectorBytes: 512,
    };
    assert.throws(() => encryptSectors(cipher, Buffer.alloc(512), 0), /halves are equal/);
  });

  it("reads the payload offset, sector size and cipher from luksDump, LUKS1 and LUKS2", () => {
    const luks2 = [
      "LUKS header information",
      "Version:       \t2",
      "Data segments:",
      "  0: crypt",
      "\toffset: 16777216 [bytes]",
      "\tlength: (whole device)",
      "\tcipher: aes-xts-plain64",
      "\tsector: 4096 [bytes]",
      "",
      "Keyslots:",
      "  0: luks2",
      "\tCipher:     aes-xts-plain64",
    ].join("\n");
    assert.deepEqual(parseLuksDump(luks2), {
      payloadOffsetBytes: 16777216,
      sectorBytes: 4096,
      cipher: "aes-xts-plain64",
    });
    const luks1 = [
      "LUKS header information for lv_srv",
      "",
      "Version:       \t1",
      "Cipher name:   \taes",
      "Cipher mode:   \txts-plain64",
      "Hash spec:     \tsha256",
      "Payload offset:\t4096",
      "MK bits:       \t512",
    ].join("\n");
    assert.deepEqual(parseLuksDump(luks1), {
      payloadOffsetBytes: 2097152,
      sectorBytes: 512,
      cipher: "aes-xts-plain64",
    });
    assert.throws(() => parseLuksDump("Version: 2\n"), /unexpected LUKS2 luksDump output/);
  });
});
