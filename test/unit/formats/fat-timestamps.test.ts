import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileByteAccess } from "../../../src/formats/byte-access.js";
import { sparseFile } from "../../helpers/files.js";
import fc from "fast-check";
import {
  clampFatTimestamps,
  decodeFatDateTime,
  encodeFatDateTime,
} from "../../../src/formats/fat-timestamps.js";

/** A real vfat of `sizeMiB` made by mkfs.vfat and filled by mcopy "now" (mtools stamps the current time). */
function populatedFat(dir: string, sizeMiB: number, fatBits: number): string {
  const image = join(dir, `fat${fatBits}.img`);
  sparseFile(image, sizeMiB * 1024 * 1024);
  execFileSync("mkfs.vfat", ["-F", String(fatBits), "-n", "TEST", image], { stdio: "ignore" });
  const tree = join(dir, `tree${fatBits}`);
  mkdirSync(join(tree, "EFI", "BOOT"), { recursive: true });
  for (let i = 0; i < 40; i += 1)
    writeFileSync(join(tree, "EFI", "BOOT", `file-with-a-long-name-${i}.efi`), `${i}`);
  writeFileSync(join(tree, "old.txt"), "old");
  utimesSync(join(tree, "old.txt"), 1_000_000_000, 1_000_000_000); // 2001: earlier than the epoch, kept
  execFileSync("mcopy", ["-s", "-p", "-m", "-i", image, join(tree, "EFI"), join(tree, "old.txt"), "::/"], {
    env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
  });
  return image;
}

describe("FAT timestamps", () => {
  it("encode and decode are inverse for even seconds from 1980 to 2107", () => {
    fc.assert(
      fc.property(fc.integer({ min: 315_532_800 / 2, max: 4_354_819_198 / 2 }), (half) => {
        const seconds = half * 2;
        const { date, time } = encodeFatDateTime(seconds);
        assert.equal(decodeFatDateTime(date, time), seconds);
      }),
    );
  });

  for (const fatBits of [12, 16, 32]) {
    it(`clamps every entry of a real FAT${fatBits} that mcopy stamped now; fsck.vfat still passes`, () => {
      const dir = mkdtempSync(join(tmpdir(), "blocksmith-fat-"));
      try {
        const image = populatedFat(dir, fatBits === 32 ? 40 : fatBits === 16 ? 16 : 8, fatBits);
        const epoch = 1_700_000_000; // 2023-11-14 22:13:20 UTC
        const fd = openSync(image, "r+");
        let changed: number;
        try {
          changed = clampFatTimestamps(fileByteAccess(fd), epoch);
          assert.equal(clampFatTimestamps(fileByteAccess(fd), epoch), 0, "a second pass changes nothing");
        } finally {
          closeSync(fd);
        }
        assert.ok(changed >= 43, `changed ${changed} entries`);
        const check = spawnSync("fsck.vfat", ["-n", image], { encoding: "utf8" });
        assert.equal(check.status, 0, check.stdout + check.stderr);
        const listing = execFileSync("mdir", ["-s", "-i", image, "::/"], {
          encoding: "utf8",
          env: { ...process.env, MTOOLS_SKIP_CHECK: "1", TZ: "UTC" },
        });
        const dates = [...listing.matchAll(/(\d{4})-(\d\d)-(\d\d)/g)].map((m) => m[0]);
        assert.ok(dates.length >= 43);
        for (const date of dates) assert.ok(date <= "2023-11-14", `${date} is after the epoch`);
        assert.match(listing, /old\s+txt\s+3 2001-09-09/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
