import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32Raw } from "../../../src/formats/crc32.js";
import {
  formatLvmId,
  metadataArea,
  pvLabelSector,
  vgMetadataText,
  writeVolumeGroup,
  type LvmVolumeGroup,
} from "../../../src/formats/lvm2.js";

const MiB = 1024 * 1024;
const LVM_CRC_SEED = 0xf597a6cf;

// Sector 1 of a 64 MiB loop device after `pvcreate` + `vgcreate` (lvm2 2.03.16), as `xxd` showed it.
const PVCREATE_LABEL =
  "4c4142454c4f4e450100000000000000416b55a0200000004c564d3220303031" +
  "457134593167544d565762414c4d6155496f3354376f326641394632545a726f" +
  "0000000400000000000010000000000000000000000000000000000000000000" +
  "0000000000000000001000000000000000f00f00000000000000000000000000" +
  "0000000000000000020000000100000000000000000000000000000000000000";

const PV = {
  id: "Eq4Y1gTMVWbALMaUIo3T7o2fA9F2TZro",
  deviceSizeBytes: 64 * MiB,
  peStartBytes: MiB,
  extentCount: 15,
};

describe("lvm2 on-disk format", () => {
  it("writes the label sector pvcreate writes, byte for byte", () => {
    const sector = pvLabelSector(PV);
    assert.equal(sector.length, 512);
    const expected = Buffer.alloc(512);
    Buffer.from(PVCREATE_LABEL, "hex").copy(expected);
    assert.equal(sector.toString("hex"), expected.toString("hex"));
  });

  it("computes lvm's CRC: the metadata area header lvm wrote checks out", () => {
    // The mda header of the same PV after lvcreate: text at 0x600, 0x45e bytes, CRC 0x55109999.
    const header = Buffer.alloc(512);
    header.write(" LVM2 x[5A%r0N*>", 4, "latin1");
    header.writeUInt32LE(1, 20);
    header.writeBigUInt64LE(4096n, 24);
    header.writeBigUInt64LE(0xff000n, 32);
    header.writeBigUInt64LE(0x600n, 40);
    header.writeBigUInt64LE(0x45en, 48);
    header.writeUInt32LE(0x55109999, 56);
    assert.equal(crc32Raw(LVM_CRC_SEED, header.subarray(4)), 0x6dcfb225);
  });

  it("puts the text after the header, NUL-terminated, with its size and CRC", () => {
    const area = metadataArea(PV, "vg {\n}\n");
    assert.equal(area.length % 512, 0);
    assert.equal(area.readUInt32LE(0), crc32Raw(LVM_CRC_SEED, area.subarray(4, 512)));
    assert.equal(area.subarray(4, 20).toString("latin1"), " LVM2 x[5A%r0N*>");
    assert.equal(area.readBigUInt64LE(32), BigInt(MiB - 4096));
    const offset = Number(area.readBigUInt64LE(40));
    const size = Number(area.readBigUInt64LE(48));
    assert.equal(offset, 512);
    assert.equal(area.subarray(offset, offset + size).toString("utf8"), "vg {\n}\n\0");
    assert.equal(area.readUInt32LE(56), crc32Raw(LVM_CRC_SEED, area.subarray(offset, offset + size)));
    assert.throws(() => metadataArea(PV, "x".repeat(MiB)), /does not fit the PV's metadata area/);
  });

  it("prints ids with lvm's dashes and refuses what is not one", () => {
    assert.equal(formatLvmId(PV.id), "Eq4Y1g-TMVW-bALM-aUIo-3T7o-2fA9-F2TZro");
    assert.throws(() => formatLvmId("short"), /not an lvm id/);
  });

  it("describes every segment of an LV and writes both PVs", () => {
    const vg: LvmVolumeGroup = {
      name: "vg0",
      id: "a".repeat(32),
      extentSizeBytes: 4 * MiB,
      physicalVolumes: [PV, { ...PV, id: "b".repeat(32) }],
      logicalVolumes: [
        {
          name: "root",
          id: "c".repeat(32),
          segments: [
            { pv: 1, pvStartExtent: 0, lvStartExtent: 0, extentCount: 15 },
            { pv: 0, pvStartExtent: 0, lvStartExtent: 15, extentCount: 3 },
          ],
        },
      ],
      creationTime: 1700000000,
      creationHost: 'odd "host"',
    };
    const text = vgMetadataText(vg, "test");
    assert.match(text, /segment_count = 2\n/);
    assert.match(text, /segment2 \{\nstart_extent = 15\nextent_count = 3\n[^}]*"pv0", 0\n/);
    assert.match(text, /creation_host = "odd \\"host\\""/);
    assert.match(text, /extent_size = 8192\n/);
    const writes = writeVolumeGroup(vg, "test");
    assert.deepEqual(
      writes.map((pv) => pv.map((w) => w.offsetBytes)),
      [
        [512, 4096],
        [512, 4096],
      ],
    );
    assert.equal(
      writes[1]![0]!.data.subarray(32, 64).toString("latin1"),
      "b".repeat(32),
      "each PV its own label",
    );
  });
});
