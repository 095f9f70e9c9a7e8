import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { closestGptTypeCode, GPT_TYPE_CODES, resolveGptType } from "../../../src/formats/gpt-types.js";
import { missingTools, readTable, ScratchDir } from "../nodes/level1/partitioning/dib-oracle.js";

const ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const LINUX_FS = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

function guidOf(text: string): string {
  const result = resolveGptType(text);
  assert.ok(result.ok, `"${text}" should resolve`);
  return result.guid;
}

function errorOf(text: string): string {
  const result = resolveGptType(text);
  assert.ok(!result.ok, `"${text}" should not resolve`);
  return result.error;
}

describe("the GPT type table", () => {
  test("holds the codes blocksmith promises", () => {
    const required = [
      ...["0700", "0c01", "2700", "3000", "3001", "7501", "8200", "8300", "8301", "8302", "8303", "8304"],
      ...["8305", "8306", "8307", "8308", "8309", "830a", "8310", "8311", "8312", "8313", "8314", "8e00"],
      ...["a500", "a501", "a502", "a503", "a580", "a581", "a582", "a600", "a800", "a901", "ab00", "af00"],
      ...["be00", "bf00", "bf01", "bf02", "bf03", "bf04", "bf05", "bf06", "bf07", "ea00", "ef00", "ef01"],
      ...["ef02", "fb00", "fb01", "fd00"],
      // x86-64 and aarch64 root, /usr and their verity partitions.
      ...["8304", "8305", "8314", "8316", "830c", "830e", "8319", "831b"],
    ];
    const codes = new Set(GPT_TYPE_CODES.map((entry) => entry.code));
    assert.deepEqual(
      required.filter((code) => !codes.has(code)),
      [],
    );
  });

  test("codes and GUIDs are well-formed and unique, every code has a name", () => {
    assert.equal(new Set(GPT_TYPE_CODES.map((e) => e.code)).size, GPT_TYPE_CODES.length);
    assert.equal(new Set(GPT_TYPE_CODES.map((e) => e.guid)).size, GPT_TYPE_CODES.length);
    for (const entry of GPT_TYPE_CODES) {
      assert.match(entry.code, /^[0-9a-f]{4}$/);
      assert.match(entry.guid, /^[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}$/);
      assert.ok(entry.name.length > 0);
    }
  });
});

describe("resolveGptType", () => {
  test("codes in any case, with sgdisk's optional 0x prefix", () => {
    for (const text of ["ef00", "EF00", "Ef00", "0xef00", "0xEF00"]) assert.equal(guidOf(text), ESP);
    assert.equal(guidOf("8300"), LINUX_FS);
  });

  test("GUIDs in any case, with or without braces, returned upper case", () => {
    assert.equal(guidOf(ESP.toLowerCase()), ESP);
    assert.equal(guidOf(`{${ESP}}`), ESP);
    // A GUID sgdisk has no code for is still a valid type.
    assert.equal(guidOf("01234567-89ab-cdef-0123-456789abcdef"), "01234567-89AB-CDEF-0123-456789ABCDEF");
    const known = resolveGptType(ESP);
    assert.ok(known.ok && known.entry === undefined);
  });

  test("refuses what sgdisk refuses or silently replaces", () => {
    assert.match(errorOf("00000000-0000-0000-0000-000000000000"), /nil GUID/);
    for (const text of [
      "C12A7328-F81F-11D2-BA4B-00A0C93EC93",
      "C12A7328F81F11D2BA4B00A0C93EC93B",
      "0XEF00",
      "",
      "1234",
      "12345",
    ]) {
      assert.match(errorOf(text), /unknown GPT type/);
    }
  });

  test("suggests the closest code", () => {
    assert.match(errorOf("ef"), /did you mean "ef00" \(EFI system partition\)/);
    assert.match(errorOf("83"), /did you mean "8300"/);
    assert.match(errorOf("8e"), /did you mean "8e00"/);
    assert.match(errorOf("7"), /did you mean "0700"/);
    assert.match(errorOf("ef0"), /did you mean "ef00"/);
    assert.match(errorOf("83000"), /did you mean "8300"/);
    assert.match(errorOf("fd0O"), /did you mean "fd00"/);
    assert.doesNotMatch(errorOf("zzzz"), /did you mean/);
    assert.equal(closestGptTypeCode("EF02 ")?.code, "ef02");
  });
});

describe("the GPT type table against sgdisk", () => {
  const skip = missingTools({ sgdisk: true });
  const scratch = skip ? undefined : new ScratchDir();
  after(() => scratch?.remove());

  /**
   * What sgdisk writes for `-n N:0:+1M -t N:TEXT`, one partition per text, all in one run because sgdisk
   * sleeps a second after every write. Undefined when sgdisk refuses (a refusal aborts the whole run).
   */
  function sgdiskGuids(texts: string[]): (string | undefined)[] | undefined {
    const image = scratch!.sparseFile((texts.length + 3) * 1024 * 1024);
    const args = [image];
    texts.forEach((text, i) => args.push("-n", `${i + 1}:0:+1M`, "-t", `${i + 1}:${text}`));
    const done = spawnSync("sgdisk", args, { encoding: "utf8" });
    if (done.status !== 0) return undefined;
    const written = new Map(readTable(image)?.partitions.map((p) => [p.number, p.type.toUpperCase()]));
    return texts.map((_, i) => written.get(i + 1));
  }

  test("every code maps to the GUID sgdisk writes", { skip }, () => {
    const written = sgdiskGuids(GPT_TYPE_CODES.map((entry) => entry.code));
    assert.ok(written, "sgdisk refused a code from the table");
    const wrong = GPT_TYPE_CODES.map((entry, i) => [entry.code, entry.guid, written[i]]).filter(
      ([, guid, read]) => guid !== read,
    );
    assert.deepEqual(wrong, []);
  });

  test("every name is sgdisk's (as `sgdisk -L` prints it)", { skip }, () => {
    const listing = spawnSync("sgdisk", ["-L"], { encoding: "utf8" }).stdout;
    const missing = GPT_TYPE_CODES.filter((entry) => !listing.includes(`${entry.code} ${entry.name}`));
    assert.deepEqual(missing, []);
  });

  test("what we accept, sgdisk writes the same; what sgdisk refuses, we refuse", { skip }, () => {
    const accepted = [
      "EF00",
      "0x8300",
      `{${ESP}}`,
      ESP.toLowerCase(),
      "01234567-89ab-cdef-0123-456789abcdef",
    ];
    assert.deepEqual(sgdiskGuids(accepted), accepted.map(guidOf));
    for (const text of ["0XEF00", "zzzz", "0000", "00000000-0000-0000-0000-000000000000"]) {
      assert.equal(sgdiskGuids([text]), undefined, `sgdisk should refuse ${text}`);
      assert.ok(!resolveGptType(text).ok);
    }
    // Differs from sgdisk on purpose: it writes "Linux filesystem" for hex codes it does not know.
    const unknown = ["ef", "83", "1234", "12345"];
    assert.deepEqual(
      sgdiskGuids(unknown),
      unknown.map(() => LINUX_FS),
    );
    for (const text of unknown) assert.ok(!resolveGptType(text).ok);
  });
});
