/** Planning LUKS: payload offset, mapped size, and the cryptsetup argv (the key never appears in argv). */
import type { LuksNode } from "../../../config/model.js";
import { devicePlaceholder, type PlanContext, withLayout } from "../../../plan/context.js";
import { layoutLuks } from "./luks-layout.js";

export function planLuks(context: PlanContext, node: LuksNode): void {
  const base = context.device(node.base);
  if (!base) return;
  const layout = withLayout(
    context,
    () =>
      layoutLuks({
        type: node.luksType,
        baseSizeBytes: base.sizeBytes,
        keySizeBits: node.keySizeBits,
        cipher: node.cipher,
        pbkdf: node.pbkdf,
      }),
    () => node.origin,
    node.origin,
  );
  if (!layout) return;
  const keySource = node.keyFile
    ? { kind: "key-file" as const, path: node.keyFile }
    : node.passphraseFile
      ? { kind: "passphrase-file" as const, path: node.passphraseFile }
      : null;
  context.plan.encrypted.push({
    name: node.name,
    base: node.base,
    luksType: layout.luksType,
    cipher: layout.cipher,
    keySizeBits: layout.keySizeBits,
    pbkdf: layout.pbkdf,
    keySource,
    payloadOffsetBytes: layout.payloadOffsetBytes,
    baseSizeBytes: layout.baseSizeBytes,
    sizeBytes: layout.sizeBytes,
    device: `/dev/mapper/${node.name}`,
  });
  context.setDevice(node.name, {
    sizeBytes: layout.sizeBytes,
    sectorSize: base.sectorSize,
    device: devicePlaceholder(node.name),
  });
  // The key is read from a file (a passphrase file with its trailing newline removed at run time).
  const keyArg = keySource ? keySource.path : "{key-file}";
  const format = [
    "cryptsetup",
    "luksFormat",
    "--batch-mode",
    "--type",
    node.luksType,
    "--cipher",
    node.cipher,
    "--key-size",
    String(node.keySizeBits),
    "--pbkdf",
    node.pbkdf,
    ...(node.iterTimeMs !== undefined ? ["--iter-time", String(node.iterTimeMs)] : []),
    "--key-file",
    keyArg,
    ...(node.label !== undefined ? ["--label", node.label] : []),
    base.device,
  ];
  context.step(node.name, "luksFormat", format, `encrypt ${node.base} with ${node.luksType}`);
  context.step(
    node.name,
    "luksOpen",
    ["cryptsetup", "open", "--key-file", keyArg, base.device, node.name],
    `open ${node.base} as /dev/mapper/${node.name}`,
  );
}
