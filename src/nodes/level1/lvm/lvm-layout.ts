/**
 * LVM size math: where pvcreate puts the first extent, how many extents a PV and a VG get, and how many
 * extents each `lvcreate` takes, reproducing lvm2 2.03.16 (Debian 12) with its default lvm.conf.
 *
 * Every rule here was measured on the real tools (test/vm/measure-level1.sh, recorded in
 * test/fixtures/level1-measurements.txt) and the fixture is replayed by the unit tests. Where a rule comes
 * from reading the lvm2 source without a measurement, the comment says so.
 *
 * LV sizes are lvcreate's: DIB 3.13's `lvm.py` passes `size` to `lvcreate -L` and `extents` to
 * `lvcreate -l` as written, so lvm's units (binary, default MiB) and its rounding up to whole extents apply.
 */
import { LayoutProblem } from "../../../core/errors.js";
import { formatBytes, SizeSyntaxError } from "../../../core/size.js";
import type { LogicalVolumePlan, PhysicalVolumePlan, VolumeGroupPlan } from "../../../plan/types.js";

const SECTOR_BYTES = 512;
const KiB = 1024;
const MiB = 1024 * KiB;

/** vgcreate's default extent size (`DEFAULT_EXTENT_SIZE`, 4096 KiB). */
export const LVM_DEFAULT_EXTENT_SIZE_BYTES = 4 * MiB;
/** pvcreate's first extent with the default lvm.conf (`default_data_alignment` = 1 MiB); measured. */
export const LVM_DEFAULT_PE_START_BYTES = 1 * MiB;
/** pvcreate refuses smaller devices (`devices/pv_min_size` = 2048 KiB); measured. */
export const LVM_PV_MIN_SIZE_BYTES = 2 * MiB;
/** lvm2 `MAX_EXTENT_COUNT`: no LV can have more extents (UINT32_MAX). */
export const LVM_MAX_EXTENT_COUNT = 0xffffffff;
/** vgcreate: an extent size that is not a power of two must be a multiple of this (`MIN_NON_POWER2_EXTENT_SIZE`). */
export const LVM_MIN_NON_POWER2_EXTENT_BYTES = 128 * KiB;

/** lvm2 `MAX_EXTENT_SIZE`: the extent size is a 32-bit count of sectors. */
const MAX_EXTENT_SIZE_SECTORS = 0xffffffff;
/** The largest value `_size_arg` accepts, in sectors: `UINT64_MAX >> SECTOR_SHIFT` (16 EiB). */
const MAX_SIZE_ARG_SECTORS = 2 ** 64 / SECTOR_BYTES;

// Thin-pool defaults (lib/config/defaults.h, allocation/thin_pool_chunk_size_policy = "generic").
const THIN_DEFAULT_CHUNK_SECTORS = 128; // DEFAULT_THIN_POOL_CHUNK_SIZE, 64 KiB
const THIN_MAX_CHUNK_SECTORS = 2097152; // DM_THIN_MAX_DATA_BLOCK_SIZE, 1 GiB
const THIN_OPTIMAL_METADATA_SECTORS = 2 * 128 * 1024; // DEFAULT_THIN_POOL_OPTIMAL_METADATA_SIZE, 128 MiB
const THIN_MIN_METADATA_SECTORS = 2 * 2048; // DEFAULT_THIN_POOL_MIN_METADATA_SIZE, 2 MiB
// DEFAULT_THIN_POOL_MAX_METADATA_SIZE_V1_KB (thin_pool_crop_metadata = 0): 255 * (16384 - 64) * 4 KiB.
const THIN_MAX_METADATA_SECTORS = 2 * 255 * (16384 - 64) * 4;
/** A pool metadata spare never grows beyond 16 GiB (rounded up to extents). */
const PMSPARE_MAX_SECTORS = 2 * 16 * 1024 * 1024;

/* ------------------------------------------------------------------------------------------ parsing */

// C strtod's prefix grammar for what lvm accepts (it first requires a digit or '.'): decimal with an
// optional exponent, or hexadecimal with an optional binary exponent. "1e" stops before the "e", which
// then reads as the unit exabytes, exactly as lvm does.
const DECIMAL_RE = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/;
const HEX_RE = /^0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?\d+)?/;
/** Unit letters in lvm's order: index i means 1024^i KiB for k…e; b and s are handled apart. */
const SIZE_SUFFIXES = "kmgtpebs";

export const LVM_SIZE_HINT =
  'write a number with an optional unit b, s (512 bytes), k, m, g, t, p or e (powers of 1024, either case; default m), e.g. "512m" or "1.5G"';

function parseHexFloat(mantissa: string, exponent: string | undefined): number {
  const [whole = "", fraction = ""] = mantissa.split(".");
  let value = whole === "" ? 0 : Number.parseInt(whole, 16);
  for (let i = 0; i < fraction.length; i += 1) value += Number.parseInt(fraction[i]!, 16) / 16 ** (i + 1);
  return exponent ? value * 2 ** Number.parseInt(exponent.slice(1), 10) : value;
}

/**
 * lvm's `_size_arg` (tools/lvmcmdline.c) for options with a default unit of MiB (`-L`, `-V`, `vgcreate -s`):
 * returns the size in sectors, truncated like lvm's `(uint64_t) v`.
 */
function parseSizeArgSectors(spec: string, what: string, allowPlus: boolean): number {
  let text = spec;
  // Measured: lvcreate -L takes "+5m" as 5 MiB and refuses "-5m"; vgcreate -s refuses both signs.
  if (text.startsWith("-")) throw new SizeSyntaxError(spec, `${what} may not be negative`);
  if (text.startsWith("+")) {
    if (!allowPlus) throw new SizeSyntaxError(spec, `${what} may not be relative/signed`);
    text = text.slice(1);
  }
  if (text.startsWith("+") || text.startsWith("-")) throw new SizeSyntaxError(spec, "multiple sign symbols");
  if (!/^[\d.]/.test(text)) throw new SizeSyntaxError(spec, `${what} requires a number`);
  let value: number;
  let rest: string;
  const hex = HEX_RE.exec(text);
  if (hex) {
    value = parseHexFloat(hex[1]!, hex[2]);
    rest = text.slice(hex[0].length);
  } else {
    const decimal = DECIMAL_RE.exec(text);
    if (!decimal) throw new SizeSyntaxError(spec, "not a number");
    value = Number.parseFloat(decimal[0]);
    rest = text.slice(decimal[0].length);
  }
  if (rest === "") {
    value *= 2048; // default unit MiB, in sectors
  } else {
    // Only the first character after the number counts ("10MiB" and "10mb" are 10 MiB; measured).
    const index = SIZE_SUFFIXES.indexOf(rest[0]!.toLowerCase());
    if (index < 0) throw new SizeSyntaxError(spec, `unknown unit "${rest[0]!}"`);
    if (index === 7) {
      // "s": already sectors
    } else if (index === 6) {
      const bytes = Math.trunc(value);
      const remainder = bytes % SECTOR_BYTES;
      if (remainder !== 0) {
        throw new SizeSyntaxError(
          spec,
          `not a multiple of 512 bytes; try ${bytes - remainder}b or ${bytes - remainder + SECTOR_BYTES}b`,
        );
      }
      value /= SECTOR_BYTES;
    } else {
      // Same operation order as lvm (multiply by 1024 i times, then by 2), so doubles round the same way.
      for (let i = index; i > 0; i -= 1) value *= 1024;
      value *= 2;
    }
  }
  if (value >= MAX_SIZE_ARG_SECTORS) throw new SizeSyntaxError(spec, "too big (16 EiB or more)");
  const sectors = Math.trunc(value);
  if (sectors === 0) throw new SizeSyntaxError(spec, `${what} may not be zero`);
  if (!Number.isSafeInteger(sectors * SECTOR_BYTES)) throw new SizeSyntaxError(spec, "too large");
  return sectors;
}

/**
 * Parses a size the way `lvcreate -L` does: default unit MiB; units b, s (512-byte sectors), k, m, g, t,
 * p, e are all powers of 1024 in either case; fractions and C number syntax ("1e1m", "0x10") are allowed;
 * bytes must be a multiple of 512; the result is truncated to whole sectors and may not be zero.
 * Returns bytes.
 */
export function parseLvmSize(spec: string): number {
  return parseSizeArgSectors(spec, "size", true) * SECTOR_BYTES;
}

/**
 * Whether `options[i]` is vgcreate's extent size option (`-s SIZE`, `-sSIZE`, `--physicalextentsize SIZE`,
 * `--physicalextentsize=SIZE`): its size (undefined when the option ends the list) and how many
 * arguments it takes; undefined for any other option.
 */
export function extentSizeOptionAt(
  options: readonly string[],
  i: number,
): { value: string | undefined; length: 1 | 2 } | undefined {
  const option = options[i]!;
  if (option === "-s" || option === "--physicalextentsize") return { value: options[i + 1], length: 2 };
  if (option.startsWith("--physicalextentsize="))
    return { value: option.slice("--physicalextentsize=".length), length: 1 };
  if (/^-s./.test(option)) return { value: option.slice(2), length: 1 };
  return undefined;
}

/**
 * The extent size a `vgcreate` with these extra options uses: `-s SIZE`, `-sSIZE`, `--physicalextentsize
 * SIZE` or `--physicalextentsize=SIZE` (lvcreate -L syntax), else 4 MiB. Throws SizeSyntaxError for a
 * size lvm refuses: zero, not whole sectors, above 2^32-1 sectors, or not a power of two and not a
 * multiple of 128 KiB.
 */
export function parseExtentSizeOption(options: readonly string[]): number {
  let value: string | undefined;
  let seen = false;
  for (let i = 0; i < options.length; i += 1) {
    const match = extentSizeOptionAt(options, i);
    if (match === undefined) continue;
    if (match.value === undefined) throw new SizeSyntaxError(options[i]!, "the option needs a size after it");
    i += match.length - 1;
    const found = match.value;
    // lvm refuses repeated options (from the lvm2 source; not measured).
    if (seen) throw new SizeSyntaxError(found, "the extent size option may not be repeated");
    seen = true;
    value = found;
  }
  if (value === undefined) return LVM_DEFAULT_EXTENT_SIZE_BYTES;
  const sectors = parseSizeArgSectors(value, "physical extent size", false);
  if (sectors > MAX_EXTENT_SIZE_SECTORS)
    throw new SizeSyntaxError(value, "the extent size must be below 2 TiB");
  const bytes = sectors * SECTOR_BYTES;
  if (!isPowerOfTwo(sectors) && bytes % LVM_MIN_NON_POWER2_EXTENT_BYTES !== 0) {
    throw new SizeSyntaxError(value, "an extent size that is not a power of 2 must be a multiple of 128 KiB");
  }
  return bytes;
}

/* ---------------------------------------------------------------------------------- physical volumes */

export interface PhysicalVolumeLayout {
  peStartBytes: number;
  extentCount: number;
}

/** The kernel's I/O hints of the PV's device (/sys/block/X/queue/{minimum,optimal}_io_size). */
export interface DeviceIoHints {
  minimumIoBytes?: number;
  optimalIoBytes?: number;
}

/**
 * pvcreate + vgcreate on a device of `deviceSizeBytes`: data starts at 1 MiB, or at the device's
 * minimum/optimal I/O size when that is bigger (lvm `set_pe_align` with data_alignment_detection and
 * md_chunk_alignment on; measured 1.5 MiB on md RAID0 of 3 and RAID5 of 4 members with 512 KiB chunks,
 * 1 MiB on RAID1, RAID5 of 3, RAID10 of 4, dm-crypt and loop devices). Every whole extent after it is
 * usable; nothing is reserved at the end. A PV may have 0 extents (vgcreate accepts it). Devices below
 * 2 MiB are refused.
 */
export function layoutPhysicalVolume(
  deviceSizeBytes: number,
  extentSizeBytes: number,
  hints: DeviceIoHints = {},
): PhysicalVolumeLayout {
  checkExtentSize(extentSizeBytes);
  const usableBytes = Math.floor(deviceSizeBytes / SECTOR_BYTES) * SECTOR_BYTES;
  if (usableBytes < LVM_PV_MIN_SIZE_BYTES) {
    throw new LayoutProblem(
      `a physical volume needs at least ${formatBytes(LVM_PV_MIN_SIZE_BYTES)} (lvm's pv_min_size); this device has ` +
        `${usableBytes} bytes, ${LVM_PV_MIN_SIZE_BYTES - usableBytes} bytes too few`,
      undefined,
      "base",
      "put the PV on a bigger partition",
    );
  }
  const peStartBytes = Math.max(
    LVM_DEFAULT_PE_START_BYTES,
    hints.minimumIoBytes ?? 0,
    hints.optimalIoBytes ?? 0,
  );
  if (peStartBytes > usableBytes) {
    throw new LayoutProblem(
      `the first extent would start at ${formatBytes(peStartBytes)} (the device's I/O size), beyond the device's ` +
        `${usableBytes} bytes`,
      undefined,
      "base",
      "put the PV on a bigger device",
    );
  }
  return {
    peStartBytes,
    extentCount: Math.floor((usableBytes - peStartBytes) / extentSizeBytes),
  };
}

/** Exact for any safe integer (bitwise operators would truncate to 32 bits). */
function isPowerOfTwo(value: number): boolean {
  return value > 0 && 2 ** Math.round(Math.log2(value)) === value;
}

function checkExtentSize(extentSizeBytes: number): void {
  const sectors = extentSizeBytes / SECTOR_BYTES;
  const valid =
    Number.isSafeInteger(sectors) &&
    sectors > 0 &&
    sectors <= MAX_EXTENT_SIZE_SECTORS &&
    (isPowerOfTwo(sectors) || extentSizeBytes % LVM_MIN_NON_POWER2_EXTENT_BYTES === 0);
  if (!valid) throw new RangeError(`invalid LVM extent size ${extentSizeBytes} bytes`);
}

/* ---------------------------------------------------------------------------------------- thin pools */

export interface ThinPoolMetadata {
  /** Extents of the hidden `<pool>_tmeta` LV. */
  metadataExtents: number;
  chunkSizeBytes: number;
}

/**
 * lvcreate's default thin-pool metadata size and chunk size for a pool of `dataExtents` (lvm2 2.03.16
 * `update_thin_pool_params`, chunk size policy "generic"):
 *
 *   chunk = 64 KiB; metadata = data / chunk * 64 bytes (integer division in sectors)
 *   while metadata > 128 MiB and chunk < 1 GiB: chunk *= 2, metadata /= 2 (integer)
 *   metadata = round up to whole extents, then at least 2 MiB (rounded up to an extent)
 *
 * Measured for 4 MiB extents from 23 to 262144 data extents (92 MiB to 1 TiB: chunk 64 KiB to 512 KiB,
 * metadata 1 to 32 extents), for 1 MiB extents (952 and 9536) and for 32 MiB extents (30, 984 and 32768).
 * The cap at the largest metadata size (about 15.9 GiB) comes from the source and needs a petabyte pool.
 */
export function thinPoolMetadata(dataExtents: number, extentSizeBytes: number): ThinPoolMetadata {
  const extentSectors = BigInt(extentSizeBytes / SECTOR_BYTES);
  let chunkSectors = BigInt(THIN_DEFAULT_CHUNK_SECTORS);
  // _estimate_size: data_extents * extent_size / (chunk_size * (SECTOR_SIZE / 64)).
  let metadataSectors = (BigInt(dataExtents) * extentSectors) / (chunkSectors * 8n);
  while (
    metadataSectors > BigInt(THIN_OPTIMAL_METADATA_SECTORS) &&
    chunkSectors < BigInt(THIN_MAX_CHUNK_SECTORS)
  ) {
    chunkSectors *= 2n;
    metadataSectors /= 2n;
  }
  const roundUp = (value: bigint): bigint => ((value + extentSectors - 1n) / extentSectors) * extentSectors;
  metadataSectors = roundUp(metadataSectors);
  const minSectors = roundUp(BigInt(THIN_MIN_METADATA_SECTORS));
  const maxSectors = roundUp(BigInt(THIN_MAX_METADATA_SECTORS));
  if (metadataSectors < minSectors) metadataSectors = minSectors;
  if (metadataSectors > maxSectors) metadataSectors = maxSectors;
  return {
    metadataExtents: Number(metadataSectors / extentSectors),
    chunkSizeBytes: Number(chunkSectors) * SECTOR_BYTES,
  };
}

/* ------------------------------------------------------------------------------------------- layout */

export type LogicalVolumeType = "linear" | "thin-pool" | "thin";

export interface LvmLayoutInput {
  vgs: {
    name: string;
    extentSizeBytes: number;
    pvs: ({ name: string; base: string; sizeBytes: number } & DeviceIoHints)[];
  }[];
  /** In creation order: DIB runs one lvcreate after another, so percentages see what came before. */
  lvs: {
    name: string;
    vg: string;
    size?: string | number;
    extents?: string | number;
    type?: LogicalVolumeType;
    thinPool?: string;
    /** Virtual size of a thin LV; DIB takes it from `size`, so either works. */
    virtualSize?: string | number;
  }[];
}

/** A hidden LV lvm creates by itself: a pool's `<pool>_tmeta` or the VG's `lvol0_pmspare`. */
export interface HiddenLogicalVolume {
  name: string;
  extents: number;
}

export interface VolumeGroupLayout extends Omit<VolumeGroupPlan, "lvm" | "physicalVolumes"> {
  physicalVolumes: Omit<PhysicalVolumePlan, "device">[];
  hiddenVolumes: HiddenLogicalVolume[];
}

export interface LogicalVolumeLayout extends Omit<LogicalVolumePlan, "device"> {
  /** Extents taken from the VG by this lvcreate (a thin LV takes none; a pool also takes its metadata). */
  allocatedExtents: number;
  /** Thin pools: extents of the hidden metadata LV and the pool's chunk size. */
  metadataExtents?: number;
  chunkSizeBytes?: number;
}

export interface LvmLayout {
  volumeGroups: VolumeGroupLayout[];
  logicalVolumes: LogicalVolumeLayout[];
}

/** Which list of the input a problem points at, with the item's name (PV indexes count across all VGs). */
export class LvmLayoutProblem extends LayoutProblem {
  constructor(
    message: string,
    readonly list: "pvs" | "vgs" | "lvs",
    readonly itemName: string,
    itemIndex: number,
    key?: string,
    hint?: string,
  ) {
    super(message, itemIndex, key, hint);
    this.name = "LvmLayoutProblem";
  }
}

interface VolumeGroupState {
  layout: VolumeGroupLayout;
  free: number;
  spare: HiddenLogicalVolume | undefined;
  thinPools: Set<string>;
}

type ExtentsRequest =
  { kind: "count"; extents: number } | { kind: "percent"; percent: number; of: "VG" | "FREE" | "PVS" };

const EXTENTS_HINT = 'write a whole number of extents or N%VG, N%FREE or N%PVS, e.g. "100%FREE"';

function describeExtents(extents: number, extentSizeBytes: number): string {
  return `${extents} extent${extents === 1 ? "" : "s"} (${formatBytes(extents * extentSizeBytes)})`;
}

/**
 * Lays out PVs, VGs and LVs like DIB's lvm plugin running pvcreate, vgcreate and one lvcreate per LV in
 * order. Throws LvmLayoutProblem for what lvm would refuse, saying by how many extents something is short.
 */
export function layoutLvm(input: LvmLayoutInput): LvmLayout {
  const groups = new Map<string, VolumeGroupState>();
  let pvIndex = 0;
  input.vgs.forEach((vg, vgIndex) => {
    try {
      checkExtentSize(vg.extentSizeBytes);
    } catch {
      throw new LvmLayoutProblem(
        `volume group "${vg.name}": invalid extent size ${vg.extentSizeBytes} bytes`,
        "vgs",
        vg.name,
        vgIndex,
        "options",
        "use a power of two (default 4 MiB) or a multiple of 128 KiB",
      );
    }
    const physicalVolumes = vg.pvs.map((pv) => {
      const index = pvIndex;
      pvIndex += 1;
      try {
        const layout = layoutPhysicalVolume(pv.sizeBytes, vg.extentSizeBytes, pv);
        return { name: pv.name, base: pv.base, sizeBytes: pv.sizeBytes, ...layout };
      } catch (error) {
        if (!(error instanceof LayoutProblem)) throw error;
        throw new LvmLayoutProblem(
          `physical volume "${pv.name}": ${error.message}`,
          "pvs",
          pv.name,
          index,
          error.key,
          error.hint,
        );
      }
    });
    const extentCount = physicalVolumes.reduce((sum, pv) => sum + pv.extentCount, 0);
    groups.set(vg.name, {
      layout: {
        name: vg.name,
        physicalVolumes,
        extentSizeBytes: vg.extentSizeBytes,
        extentCount,
        freeExtents: extentCount,
        sizeBytes: extentCount * vg.extentSizeBytes,
        hiddenVolumes: [],
      },
      free: extentCount,
      spare: undefined,
      thinPools: new Set(),
    });
  });

  const logicalVolumes = input.lvs.map((lv, index) => {
    const problem = (message: string, key?: string, hint?: string): LvmLayoutProblem =>
      new LvmLayoutProblem(`logical volume "${lv.name}": ${message}`, "lvs", lv.name, index, key, hint);
    const group = groups.get(lv.vg);
    if (!group) throw problem(`there is no volume group "${lv.vg}"`, "base", "name one of the VGs in `vgs`");
    const layout = createLogicalVolume(lv, group, problem);
    group.layout.freeExtents = group.free;
    return layout;
  });
  return { volumeGroups: [...groups.values()].map((group) => group.layout), logicalVolumes };
}

type ProblemFactory = (message: string, key?: string, hint?: string) => LvmLayoutProblem;

function createLogicalVolume(
  lv: LvmLayoutInput["lvs"][number],
  group: VolumeGroupState,
  problem: ProblemFactory,
): LogicalVolumeLayout {
  const lvType = lv.type ?? "linear";
  const extentSize = group.layout.extentSizeBytes;
  const request: LogicalVolumePlan["request"] = {};
  if (lv.size !== undefined) request.size = String(lv.size);
  if (lv.extents !== undefined) request.extents = String(lv.extents);
  const base = { name: lv.name, volumeGroup: group.layout.name, request, lvType };

  if (lvType === "thin") {
    const pool = lv.thinPool;
    if (pool === undefined)
      throw problem("a thin LV needs `thin-pool`", "thin-pool", "name a thin-pool LV created before it");
    if (!group.thinPools.has(pool)) {
      throw problem(
        `there is no thin pool "${pool}" in volume group "${group.layout.name}" before it`,
        "thin-pool",
        "create the thin-pool LV earlier in `lvs`, in the same VG",
      );
    }
    const spec = lv.virtualSize ?? lv.size;
    if (spec === undefined) {
      // DIB passes `extents` as `-l`, which lvcreate refuses: "Thin segment type requires --virtualsize."
      throw problem(
        "a thin LV needs `size` (its virtual size); lvcreate refuses extents for thin LVs",
        "size",
        'e.g. size: "10GiB"',
      );
    }
    const virtualExtents = sizeToExtents(spec, extentSize, problem);
    // A thin LV takes no extents from the VG (measured: vg_free unchanged).
    return {
      ...base,
      thinPool: pool,
      extents: virtualExtents,
      sizeBytes: virtualExtents * extentSize,
      allocatedExtents: 0,
    };
  }
  if (lv.thinPool !== undefined) throw problem("`thin-pool` is only for LVs of type thin", "thin-pool");

  const requested = requestedExtents(lv, group, problem);
  if (lvType === "thin-pool") return createThinPool(base, requested, group, problem);

  let extents = requested.extents;
  if (requested.percent) {
    // Percentages allocate approximately: lvcreate takes what is free when there is less (measured:
    // 80%PVS with 698 free gives 698, 150%FREE gives all), but fails when nothing is free.
    if (group.free === 0) {
      throw problem(
        `${request.extents} asks for ${describeExtents(extents, extentSize)} but volume group "${group.layout.name}" has no free extents`,
        "extents",
        "make the LVs before it smaller or give the VG bigger PVs",
      );
    }
    extents = Math.min(extents, group.free);
  } else if (extents > group.free) {
    throw notEnoughSpace(problem, requested.key, extents, group, extentSize);
  }
  group.free -= extents;
  return { ...base, extents, sizeBytes: extents * extentSize, allocatedExtents: extents };
}

function notEnoughSpace(
  problem: ProblemFactory,
  key: string,
  needed: number,
  group: VolumeGroupState,
  extentSize: number,
  breakdown = "",
): LvmLayoutProblem {
  return problem(
    `needs ${describeExtents(needed, extentSize)}${breakdown} but volume group "${group.layout.name}" has ` +
      `${describeExtents(group.free, extentSize)} free: ${describeExtents(needed - group.free, extentSize)} short`,
    key,
    "make this LV or the ones before it smaller, use extents: 100%FREE, or give the VG bigger PVs",
  );
}

interface RequestedExtents {
  extents: number;
  percent: boolean;
  /** For %FREE and %PVS thin pools, lvcreate subtracts the metadata and spare afterwards. */
  subtractPoolMetadata: boolean;
  key: "size" | "extents";
}

function requestedExtents(
  lv: LvmLayoutInput["lvs"][number],
  group: VolumeGroupState,
  problem: ProblemFactory,
): RequestedExtents {
  const extentSize = group.layout.extentSizeBytes;
  if (lv.size !== undefined && lv.extents !== undefined) {
    throw problem("give either `size` or `extents`, not both", "extents");
  }
  if (lv.size !== undefined) {
    return {
      extents: sizeToExtents(lv.size, extentSize, problem),
      percent: false,
      subtractPoolMetadata: false,
      key: "size",
    };
  }
  if (lv.extents === undefined)
    throw problem("needs `size` or `extents`", "size", 'e.g. size: "1GiB" or extents: "100%FREE"');
  const parsed = parseExtentsRequest(String(lv.extents), problem);
  if (parsed.kind === "count") {
    return { extents: parsed.extents, percent: false, subtractPoolMetadata: false, key: "extents" };
  }
  // lvcreate._update_extents_params: percent_of_extents(percent, base, 0) = floor(percent * base / 100).
  const baseExtents = parsed.of === "FREE" ? group.free : group.layout.extentCount; // %PVS without a PV list = all
  let extents = Number((BigInt(parsed.percent) * BigInt(baseExtents)) / 100n);
  if (parsed.of === "VG" && extents > group.free) extents = group.free; // "Reducing N%VG to remaining free space"
  if (extents === 0) {
    throw problem(
      `${lv.extents} of ${describeExtents(baseExtents, extentSize)} is 0 extents`,
      "extents",
      group.free === 0 ? "the VG is full; make the LVs before it smaller" : "use a bigger percentage",
    );
  }
  return { extents, percent: true, subtractPoolMetadata: parsed.of !== "VG", key: "extents" };
}

function parseExtentsRequest(text: string, problem: ProblemFactory): ExtentsRequest {
  const match = /^(\d+)(?:%([A-Za-z]+))?$/.exec(text);
  if (!match)
    throw problem(
      `invalid extents "${text}" (lvcreate -l takes whole numbers only)`,
      "extents",
      EXTENTS_HINT,
    );
  // strtoull, clamped to UINT32_MAX like lvm's ui_value.
  const number = Math.min(Number(match[1]), LVM_MAX_EXTENT_COUNT);
  if (number === 0) throw problem("extents may not be zero", "extents", EXTENTS_HINT);
  const unit = match[2]?.toUpperCase();
  if (unit === undefined) return { kind: "count", extents: number };
  let of: "VG" | "FREE" | "PVS";
  if (unit === "V" || unit === "VG") of = "VG";
  else if (unit === "F" || unit === "FR" || unit === "FREE") of = "FREE";
  else if (unit === "P" || unit === "PV" || unit === "PVS") of = "PVS";
  else throw problem(`"${text}": lvcreate takes %FREE, %PVS or %VG here`, "extents", EXTENTS_HINT);
  if (number >= LVM_MAX_EXTENT_COUNT)
    throw problem(`percentage "${text}" is too big`, "extents", EXTENTS_HINT);
  return { kind: "percent", percent: number, of };
}

/** `size` → extents: lvcreate -L syntax, then lvm's rounding up to whole extents. */
function sizeToExtents(spec: string | number, extentSizeBytes: number, problem: ProblemFactory): number {
  let bytes: number;
  try {
    bytes = parseLvmSize(String(spec));
  } catch (error) {
    if (error instanceof SizeSyntaxError) throw problem(error.message, "size", LVM_SIZE_HINT);
    throw error;
  }
  // extents_from_size: round up to a whole extent.
  const extents = Math.ceil(bytes / extentSizeBytes);
  if (extents > LVM_MAX_EXTENT_COUNT) {
    throw problem(
      `size "${String(spec)}" is more than ${LVM_MAX_EXTENT_COUNT} extents of ${formatBytes(extentSizeBytes)}`,
      "size",
      "use a bigger extent size (vgcreate -s)",
    );
  }
  return extents;
}

function createThinPool(
  base: Pick<LogicalVolumeLayout, "name" | "volumeGroup" | "request" | "lvType">,
  requested: RequestedExtents,
  group: VolumeGroupState,
  problem: ProblemFactory,
): LogicalVolumeLayout {
  const extentSize = group.layout.extentSizeBytes;
  // The metadata size is estimated from the requested extents *before* the %FREE/%PVS adjustment below
  // (measured: 100%FREE of 10242 gives 11 metadata extents, which only 10242, not 10220, yields).
  const { metadataExtents, chunkSizeBytes } = thinPoolMetadata(requested.extents, extentSize);
  let dataExtents = requested.extents;
  if (requested.subtractPoolMetadata) {
    // lvcreate: "FIXME: persistent hidden space in VG wanted" — room for the metadata and its spare is
    // subtracted even when a big enough spare exists already (measured: leaves 5 extents free).
    if (dataExtents <= 2 * metadataExtents) {
      throw problem(
        `${requested.extents} extents leave no room for thin pool data after ${2 * metadataExtents} extents of metadata and spare`,
        requested.key,
        "use a bigger percentage or free more of the VG",
      );
    }
    dataExtents -= 2 * metadataExtents;
  }
  // The spare (lvol0_pmspare) is as big as the biggest pool metadata in the VG, at most 16 GiB.
  const spareMax = Math.ceil(PMSPARE_MAX_SECTORS / (extentSize / SECTOR_BYTES));
  const spareWanted = Math.min(metadataExtents, spareMax);
  const spareGrowth = Math.max(0, spareWanted - (group.spare?.extents ?? 0));
  // Pools allocate data, metadata and spare exactly; no approximate reduction (measured: 100%VG fails).
  const needed = dataExtents + metadataExtents + spareGrowth;
  if (needed > group.free) {
    const breakdown = ` (${dataExtents} data + ${metadataExtents} metadata${spareGrowth > 0 ? ` + ${spareGrowth} metadata spare` : ""})`;
    throw notEnoughSpace(problem, requested.key, needed, group, extentSize, breakdown);
  }
  group.free -= needed;
  if (spareGrowth > 0) {
    if (group.spare) group.spare.extents += spareGrowth;
    else {
      group.spare = { name: "lvol0_pmspare", extents: spareGrowth };
      group.layout.hiddenVolumes.push(group.spare);
    }
  }
  group.layout.hiddenVolumes.push({ name: `${base.name}_tmeta`, extents: metadataExtents });
  group.thinPools.add(base.name);
  return {
    ...base,
    extents: dataExtents,
    sizeBytes: dataExtents * extentSize,
    allocatedExtents: dataExtents + metadataExtents + spareGrowth,
    metadataExtents,
    chunkSizeBytes,
  };
}
