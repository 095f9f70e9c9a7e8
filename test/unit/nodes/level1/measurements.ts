/**
 * Reads test/fixtures/level1-measurements.txt, the output of test/vm/measure-level1.sh (the real lvm2,
 * cryptsetup and mdadm in the VM). Shared by the lvm, luks and raid tests, which replay every record.
 */
import { readFileSync } from "node:fs";

export interface MeasurementRecord {
  kind: string;
  /** 1-based line in the fixture, for failure messages. */
  line: number;
  fields: Record<string, string>;
}

const FIXTURE = new URL("../../../../../test/fixtures/level1-measurements.txt", import.meta.url);
const FIELD_RE = /([A-Za-z_]+)=(?:"([^"]*)"|(\S*))/g;

let cache: { records: MeasurementRecord[]; comments: string[] } | undefined;

function load(): { records: MeasurementRecord[]; comments: string[] } {
  if (cache) return cache;
  const records: MeasurementRecord[] = [];
  const comments: string[] = [];
  readFileSync(FIXTURE, "utf8")
    .split("\n")
    .forEach((text, index) => {
      if (text.startsWith("#")) {
        comments.push(text);
        return;
      }
      if (text.trim() === "") return;
      const kind = text.slice(0, text.indexOf(" "));
      const fields: Record<string, string> = {};
      for (const match of text.matchAll(FIELD_RE)) fields[match[1]!] = match[2] ?? match[3] ?? "";
      records.push({ kind, line: index + 1, fields });
    });
  cache = { records, comments };
  return cache;
}

/** All records of one kind ("lvm-pv", "lvm-L", "lvm-seq-vg", "lvm-seq", "luks", "raid"), in file order. */
export function measurements(kind: string): MeasurementRecord[] {
  return load().records.filter((record) => record.kind === kind);
}

/** Comment lines (starting with "#"), e.g. the captured `cryptsetup --help` defaults. */
export function measurementComments(): string[] {
  return load().comments;
}

/** A field that must be present. */
export function field(record: MeasurementRecord, name: string): string {
  const value = record.fields[name];
  if (value === undefined) throw new Error(`fixture line ${record.line}: no field ${name}`);
  return value;
}

export function numberField(record: MeasurementRecord, name: string): number {
  const value = Number(field(record, name));
  if (!Number.isSafeInteger(value)) throw new Error(`fixture line ${record.line}: ${name} is not an integer`);
  return value;
}
