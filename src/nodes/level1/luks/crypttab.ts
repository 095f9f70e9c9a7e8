/** /etc/crypttab lines for the LUKS volumes of a plan (crypttab(5): name, device, key file, options). */
import type { EncryptedPlan } from "../../../plan/types.js";

/**
 * `<name> UUID=<luks uuid> <key> luks`. The key column is the configured key file's path (the booted
 * system is expected to have it there, e.g. in its initramfs), or `none` to ask for the passphrase:
 * a passphrase file is a build-time secret and must not end up in the image.
 */
export function formatCrypttabLine(
  volume: Pick<EncryptedPlan, "name" | "keySource">,
  luksUuid: string,
): string {
  const key = volume.keySource?.kind === "key-file" ? volume.keySource.path : "none";
  if (/\s/.test(key))
    throw new Error(`crypttab cannot name the key file ${JSON.stringify(key)} (white space)`);
  return `${volume.name} UUID=${luksUuid} ${key} luks`;
}

/** The whole /etc/crypttab, one line per volume; `uuidOf` gives each volume's LUKS UUID (or throws). */
export function crypttabText(
  volumes: readonly Pick<EncryptedPlan, "name" | "keySource">[],
  uuidOf: (volume: string) => string,
): string {
  return volumes.map((volume) => `${formatCrypttabLine(volume, uuidOf(volume.name))}\n`).join("");
}
