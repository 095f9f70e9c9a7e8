/**
 * A file system on LUKS, offline: the header cryptsetup wrote into a file of the base device's size, then
 * every sector of the file system (made in a plain file of the LUKS volume's size) encrypted as dm-crypt
 * would, behind it. Every payload sector is written, zeros too: a hole would decrypt to noise, and mkfs
 * relies on zeros it did not write (e.g. inode tables of a file it believes reads back zeroed).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { encryptSectors, type SectorCipher } from "../formats/dm-crypt.js";
import type { Runner } from "../core/runner.js";
import { dataRanges, copyRangesToPieces } from "./copy-ranges.js";
import { piecesOf, writeMapped, type OpenFiles, type Placement } from "./placement.js";

const CHUNK_BYTES = 4 * 1024 * 1024;

export interface EncryptedVolume {
  /** The file cryptsetup formatted. */
  headerFile: string;
  payloadOffsetBytes: number;
  cipher: SectorCipher;
  /** The plain file system (the opened volume's bytes), or undefined for a volume nothing is on. */
  plainFile?: string;
  /** Where the LUKS base device lies. */
  base: Placement;
}

export async function writeEncryptedVolume(
  run: Runner,
  files: OpenFiles,
  volume: EncryptedVolume,
): Promise<void> {
  const pieces = piecesOf(volume.base);
  const header = (await dataRanges(run, volume.headerFile)).flatMap(([start, end]): [number, number][] =>
    start < volume.payloadOffsetBytes ? [[start, Math.min(end, volume.payloadOffsetBytes)]] : [],
  );
  copyRangesToPieces(volume.headerFile, header, files, pieces);
  if (volume.plainFile === undefined) return;
  const { sectorBytes } = volume.cipher;
  const fd = openSync(volume.plainFile, "r");
  const buffer = Buffer.alloc(CHUNK_BYTES - (CHUNK_BYTES % sectorBytes));
  try {
    for (let at = 0; ;) {
      const length = readSync(fd, buffer, 0, buffer.length, at);
      if (length === 0) break;
      if (length % sectorBytes !== 0)
        throw new Error(`internal: ${volume.plainFile} ends inside a ${sectorBytes}-byte sector`);
      const encrypted = encryptSectors(volume.cipher, buffer.subarray(0, length), at / sectorBytes);
      writeMapped(files, pieces, volume.payloadOffsetBytes + at, encrypted);
      at += length;
    }
  } finally {
    closeSync(fd);
  }
}
