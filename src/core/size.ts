/**
 * Size math, identical to diskimage-builder's `block_device/utils.py` so that the same config gives the
 * same bytes. DIB computes with Python floats: `int(factor * float(number))` and
 * `int(total * percent / 100.0)`; JavaScript numbers are the same IEEE doubles, so `Math.trunc` of the
 * same expression gives the same integer for every size below 2^53 bytes (8 PiB).
 */

/** Unit table in DIB's order. Decimal units are powers of 1000, `…iB` units powers of 1024. */
export const SIZE_UNITS: ReadonlyArray<readonly [string, number]> = [
  ["TiB", 1024 ** 4],
  ["GiB", 1024 ** 3],
  ["MiB", 1024 ** 2],
  ["KiB", 1024],
  ["TB", 1000 ** 4],
  ["GB", 1000 ** 3],
  ["MB", 1000 ** 2],
  ["KB", 1000],
  ["T", 1000 ** 4],
  ["G", 1000 ** 3],
  ["M", 1000 ** 2],
  ["K", 1000],
  ["B", 1],
  ["", 1],
];

const UNIT_FACTORS = new Map(SIZE_UNITS);
// DIB's regex: `^([\d\.]*) ?([a-zA-Z0-9_]*)$`; the number part must then parse as a float.
const SIZE_RE = /^([\d.]*) ?([a-zA-Z0-9_]*)$/;
const NUMBER_RE = /^(\d+\.?\d*|\.\d+)$/;

export class SizeSyntaxError extends Error {
  constructor(
    readonly spec: string,
    reason: string,
  ) {
    super(`invalid size "${spec}": ${reason}`);
    this.name = "SizeSyntaxError";
  }
}

export const SIZE_HINT =
  'write a number with an optional unit: B, K/KB/M/MB/G/GB/T/TB (powers of 1000) or KiB/MiB/GiB/TiB (powers of 1024), e.g. "512MiB" or "2.5G"';

/** Parses an absolute size ("3G", "550MiB", "1024", 4096) to bytes, truncating like DIB. */
export function parseAbsoluteSize(spec: string | number): number {
  const text = String(spec);
  const match = SIZE_RE.exec(text);
  if (!match) throw new SizeSyntaxError(text, "not a number followed by a unit");
  const [, numberPart = "", unitPart = ""] = match;
  const factor = UNIT_FACTORS.get(unitPart);
  if (factor === undefined) throw new SizeSyntaxError(text, `unknown unit "${unitPart}"`);
  // An empty number means 1 (DIB: `float(n) if len(n) > 0 else 1`), so "MiB" alone is 1 MiB.
  if (numberPart !== "" && !NUMBER_RE.test(numberPart)) throw new SizeSyntaxError(text, "malformed number");
  const count = numberPart === "" ? 1 : Number.parseFloat(numberPart);
  const bytes = Math.trunc(factor * count);
  if (!Number.isSafeInteger(bytes)) throw new SizeSyntaxError(text, "too large");
  return bytes;
}

export interface RelativeSize {
  /** True when the spec was a percentage of the remaining space. */
  relative: boolean;
  bytes: number;
}

/** Parses "50%" (of `availableBytes`, truncated like DIB) or an absolute size. */
export function parseRelativeSize(spec: string | number, availableBytes: number): RelativeSize {
  const text = String(spec);
  if (text.endsWith("%")) {
    const percentText = text.slice(0, -1);
    if (!NUMBER_RE.test(percentText)) throw new SizeSyntaxError(text, "malformed percentage");
    const percent = Number.parseFloat(percentText);
    return { relative: true, bytes: Math.trunc((availableBytes * percent) / 100.0) };
  }
  return { relative: false, bytes: parseAbsoluteSize(text) };
}

/** Checks a size spec's syntax without a disk size (for load-time validation). */
export function checkSizeSyntax(spec: string | number, allowPercent: boolean): string | undefined {
  try {
    if (allowPercent) parseRelativeSize(spec, 0);
    else {
      if (String(spec).endsWith("%")) return `"${String(spec)}": a percentage is not allowed here`;
      parseAbsoluteSize(spec);
    }
    return undefined;
  } catch (error) {
    if (error instanceof SizeSyntaxError) return error.message;
    throw error;
  }
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export function alignDown(value: number, alignment: number): number {
  return Math.floor(value / alignment) * alignment;
}

const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Human size for tables: "1.5 GiB", "512 MiB", "4 KiB", exact bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = Number.isInteger(value)
    ? String(value)
    : value.toFixed(value < 10 ? 2 : 1).replace(/\.?0+$/, "");
  return `${text} ${BINARY_UNITS[unit]}`;
}
