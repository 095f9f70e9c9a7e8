import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isolatedLvmArgv,
  LVM_PRIVATE_CONFIG,
  lvmIsolationOptions,
  parseVgNames,
} from "../../../../../src/nodes/level1/lvm/device.js";

describe("lvm device mode: isolation from the host's LVM", () => {
  it("confines a command to the build's devices, with the private config", () => {
    assert.deepEqual(lvmIsolationOptions(["/dev/loop0p2", "/dev/loop1p1"]), [
      "--devices",
      "/dev/loop0p2,/dev/loop1p1",
      "--config",
      LVM_PRIVATE_CONFIG,
    ]);
  });

  it("the private config keeps host settings and backups out of the image's VGs", () => {
    assert.match(LVM_PRIVATE_CONFIG, /system_id_source="none"/);
    assert.match(LVM_PRIVATE_CONFIG, /backup=0 archive=0/);
  });

  it("puts the options right after the command name, the planned argv unchanged after them", () => {
    assert.deepEqual(isolatedLvmArgv(["vgcreate", "vg", "/dev/loop0p2", "-s", "8M"], ["/dev/loop0p2"]), [
      "vgcreate",
      "--devices",
      "/dev/loop0p2",
      "--config",
      LVM_PRIVATE_CONFIG,
      "vg",
      "/dev/loop0p2",
      "-s",
      "8M",
    ]);
  });

  it("refuses no devices and device names --devices cannot carry", () => {
    assert.throws(() => lvmIsolationOptions([]), /needs the devices/);
    assert.throws(() => lvmIsolationOptions(["/dev/a,b"]), /comma/);
  });

  it("reads VG names from vgs --reportformat json", () => {
    const json = '{"report":[{"vg":[{"vg_name":"host"},{"vg_name":"data"}]}]}';
    assert.deepEqual(parseVgNames(json), ["host", "data"]);
    assert.deepEqual(parseVgNames('{"report":[{"vg":[]}]}'), []);
    assert.deepEqual(parseVgNames(""), []);
  });
});
