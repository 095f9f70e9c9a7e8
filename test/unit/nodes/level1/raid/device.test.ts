import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MD_HOMEHOST,
  mdadmCreateArgv,
  parseExportedMembers,
} from "../../../../../src/nodes/level1/raid/device.js";

const PLANNED = [
  "mdadm",
  "--create",
  "/dev/md/md0",
  "--run",
  "--level",
  "1",
  "--metadata",
  "1.2",
  "--raid-devices",
  "2",
  "/dev/loop0p1",
  "/dev/loop0p2",
];

describe("raid device mode", () => {
  it("adds the fixed homehost after --run, the planned argv unchanged around it", () => {
    assert.deepEqual(mdadmCreateArgv(PLANNED, undefined), [
      ...PLANNED.slice(0, 4),
      "--homehost",
      MD_HOMEHOST,
      ...PLANNED.slice(4),
    ]);
  });

  it("adds the derived UUID when the build is seeded", () => {
    const argv = mdadmCreateArgv(PLANNED, "0b6f4c8e-2d3a-4f5b-9c1d-7e8f9a0b1c2d");
    assert.deepEqual(argv.slice(4, 8), [
      "--homehost",
      "any",
      "--uuid",
      "0b6f4c8e-2d3a-4f5b-9c1d-7e8f9a0b1c2d",
    ]);
  });

  it("refuses an argv that is not a planned mdadm --create", () => {
    assert.throws(() => mdadmCreateArgv(["mdadm", "--stop", "/dev/md/x"], undefined), /not a planned/);
  });

  it("reads the member devices from mdadm --detail --export", () => {
    const text = [
      "MD_LEVEL=raid1",
      "MD_DEVICE_dev_loop0p1_ROLE=0",
      "MD_DEVICE_dev_loop0p1_DEV=/dev/loop0p1",
      "MD_DEVICE_dev_loop0p2_ROLE=1",
      "MD_DEVICE_dev_loop0p2_DEV=/dev/loop0p2",
      "",
    ].join("\n");
    assert.deepEqual(parseExportedMembers(text), ["/dev/loop0p1", "/dev/loop0p2"]);
  });
});
