/**
 * Offline mode for `luks`: cryptsetup writes the header (luksFormat works on a plain file, as an ordinary
 * user, without device-mapper) with a volume key blocksmith chose, and blocksmith encrypts the file
 * system's sectors itself with that key (src/formats/dm-crypt.ts), as dm-crypt would have on the opened
 * volume. The header's keyslots, salts and key derivation stay cryptsetup's: argon2 and every LUKS1/LUKS2
 * detail come from the reference implementation, not from a copy of it.
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { UnsupportedError } from "../../../core/errors.js";
import type { Runner } from "../../../core/runner.js";
import { xtsCipherFor, type SectorCipher } from "../../../formats/dm-crypt.js";
import type { EncryptedPlan, Plan } from "../../../plan/types.js";
import { withKey } from "./device.js";

/** What offline mode cannot do with LUKS, refused before anything is written. */
export function checkOfflineLuks(plan: Plan): void {
  const refusals: string[] = [];
  for (const volume of plan.encrypted) {
    if (volume.keySource === null)
      refusals.push(`luks "${volume.name}" has neither key-file nor passphrase-file to format it with`);
    if (!xtsCipherFor(volume.cipher, volume.keySizeBits / 8))
      refusals.push(
        `luks "${volume.name}" uses ${volume.cipher} with a ${volume.keySizeBits}-bit key; offline encryption ` +
          "does aes-xts-plain64 (or aes-xts-plain) with 256- or 512-bit keys",
      );
  }
  if (refusals.length > 0)
    throw new UnsupportedError(
      `offline builds cannot make this LUKS volume: ${refusals.join("; ")}.` +
        " Change it, or build in device mode (blocksmith --params FILE create, as root)",
    );
}

export interface FormattedLuks {
  /** Where the encrypted payload starts on the LUKS base device. */
  payloadOffsetBytes: number;
  cipher: SectorCipher;
}

/** Reads what the payload encryption needs from `cryptsetup luksDump` (LUKS1 or LUKS2). */
export function parseLuksDump(text: string): {
  payloadOffsetBytes: number;
  sectorBytes: number;
  cipher: string;
} {
  if (/^Version:\s*1\s*$/m.test(text)) {
    const name = /^Cipher name:\s*(\S+)/m.exec(text)?.[1];
    const mode = /^Cipher mode:\s*(\S+)/m.exec(text)?.[1];
    const offset = /^Payload offset:\s*(\d+)/m.exec(text)?.[1];
    if (!name || !mode || !offset) throw new Error(`unexpected LUKS1 luksDump output:\n${text}`);
    return { payloadOffsetBytes: Number(offset) * 512, sectorBytes: 512, cipher: `${name}-${mode}` };
  }
  // The first data segment: from "Data segments:" up to the next section ("Keyslots:").
  const segment = /^Data segments:\n([\s\S]*?)^\S/m.exec(text)?.[1] ?? "";
  const offset = /offset:\s*(\d+) \[bytes\]/.exec(segment)?.[1];
  const cipher = /cipher:\s*(\S+)/.exec(segment)?.[1];
  const sector = /sector:\s*(\d+) \[bytes\]/.exec(segment)?.[1];
  if (!offset || !cipher || !sector) throw new Error(`unexpected LUKS2 luksDump output:\n${text}`);
  return { payloadOffsetBytes: Number(offset), sectorBytes: Number(sector), cipher };
}

/**
 * luksFormat as planned, on `headerFile` (sized like the base device), with a fresh random volume key
 * and the given LUKS UUID. The key file exists only while cryptsetup runs.
 */
export async function formatLuksHeader(
  run: Runner,
  plan: Plan,
  volume: EncryptedPlan,
  headerFile: string,
  uuid: string,
): Promise<FormattedLuks> {
  const planned = plan.steps.find((step) => step.node === volume.name && step.action === "luksFormat");
  if (!planned) throw new Error(`internal: no luksFormat step for ${volume.name}`);
  const keyBytes = volume.keySizeBits / 8;
  const volumeKey = randomBytes(keyBytes);
  const volumeKeyFile = `${headerFile}.volume-key`;
  writeFileSync(volumeKeyFile, volumeKey, { mode: 0o600 });
  try {
    const { argv, input } = withKey([...planned.argv.slice(0, -1), headerFile], volume);
    argv.splice(-1, 0, "--volume-key-file", volumeKeyFile, "--uuid", uuid);
    await run(argv, `write the ${volume.luksType} header of ${volume.name}`, input ? { input } : {});
  } finally {
    rmSync(volumeKeyFile, { force: true });
  }
  const { stdout } = await run(["cryptsetup", "luksDump", headerFile], `read the header of ${volume.name}`);
  const dump = parseLuksDump(stdout);
  const xts = xtsCipherFor(dump.cipher, keyBytes);
  if (!xts)
    throw new Error(`internal: cryptsetup made ${volume.name} with ${dump.cipher}, not what was asked`);
  return {
    payloadOffsetBytes: dump.payloadOffsetBytes,
    cipher: { ...xts, key: volumeKey, sectorBytes: dump.sectorBytes },
  };
}
