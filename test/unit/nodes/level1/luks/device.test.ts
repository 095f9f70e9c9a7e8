import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatCrypttabLine } from "../../../../../src/nodes/level1/luks/crypttab.js";
import { luksProblems, passphraseFromFile, withKey } from "../../../../../src/nodes/level1/luks/device.js";
import type { EncryptedPlan } from "../../../../../src/plan/types.js";

const UUID = "0b6f4c8e-2d3a-4f5b-9c1d-7e8f9a0b1c2d";

function volume(keySource: EncryptedPlan["keySource"]): EncryptedPlan {
  return {
    name: "cryptroot",
    base: "root",
    luksType: "luks2",
    cipher: "aes-xts-plain64",
    keySizeBits: 512,
    pbkdf: "pbkdf2",
    keySource,
    payloadOffsetBytes: 16 << 20,
    baseSizeBytes: 100 << 20,
    sizeBytes: 84 << 20,
    device: "/dev/mapper/cryptroot",
  };
}

describe("crypttab lines", () => {
  it("names the key file when one is configured", () => {
    assert.equal(
      formatCrypttabLine(volume({ kind: "key-file", path: "/etc/keys/root.key" }), UUID),
      `cryptroot UUID=${UUID} /etc/keys/root.key luks`,
    );
  });
  it("asks for the passphrase (none) otherwise: a passphrase file is a build secret", () => {
    assert.equal(
      formatCrypttabLine(volume({ kind: "passphrase-file", path: "/build/pass" }), UUID),
      `cryptroot UUID=${UUID} none luks`,
    );
    assert.equal(formatCrypttabLine(volume(null), UUID), `cryptroot UUID=${UUID} none luks`);
  });
  it("refuses a key path crypttab cannot hold", () => {
    assert.throws(() => formatCrypttabLine(volume({ kind: "key-file", path: "/a b" }), UUID), /white space/);
  });
});

describe("LUKS keys", () => {
  it("a passphrase file loses exactly one trailing newline", () => {
    assert.equal(passphraseFromFile(Buffer.from("secret\n")).toString(), "secret");
    assert.equal(passphraseFromFile(Buffer.from("secret\r\n")).toString(), "secret");
    assert.equal(passphraseFromFile(Buffer.from("secret\n\n")).toString(), "secret\n");
    assert.equal(passphraseFromFile(Buffer.from("secret")).toString(), "secret");
  });

  it("property: the passphrase is a prefix of the file, at most two bytes shorter", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const file = Buffer.from(bytes);
        const out = passphraseFromFile(file);
        assert.ok(file.subarray(0, out.length).equals(out));
        assert.ok(file.length - out.length <= 2);
      }),
    );
  });

  it("a key file stays a path for cryptsetup; a passphrase goes to stdin, never into argv", () => {
    const dir = mkdtempSync(join(tmpdir(), "blocksmith-key-"));
    try {
      writeFileSync(join(dir, "pass"), "typed words\n");
      const argv = ["cryptsetup", "open", "--key-file", join(dir, "pass"), "/dev/loop0p2", "cryptroot"];
      const keyed = withKey(argv, volume({ kind: "key-file", path: join(dir, "pass") }));
      assert.deepEqual(keyed, { argv });
      const typed = withKey(argv, volume({ kind: "passphrase-file", path: join(dir, "pass") }));
      assert.deepEqual(typed.argv, ["cryptsetup", "open", "--key-file", "-", "/dev/loop0p2", "cryptroot"]);
      assert.equal(typed.input?.toString(), "typed words");
      assert.ok(!typed.argv.join(" ").includes("typed words"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a volume without a key, or with a key file that cannot be read", () => {
    assert.match(luksProblems(volume(null)).join("\n"), /neither key-file nor passphrase-file/);
    assert.match(
      luksProblems(volume({ kind: "key-file", path: "/nonexistent/key" })).join("\n"),
      /cannot read key-file \/nonexistent\/key/,
    );
  });
});
