/**
 * The resource journal of device mode: every resource (image file, loop device, partition mapping,
 * mount, VG, LUKS mapping, md array) is appended here and fsync'd *before* it is taken, and marked
 * released after it is released. `delete` after a crash (even `kill -9` in the middle of `create`)
 * replays the journal and releases, in reverse order, everything still held.
 *
 * Format: JSON lines, append-only. A crash can leave a torn last line; it is ignored on replay (the
 * resource it described was never taken, because taking happens only after the fsync returns).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { StateError } from "../core/errors.js";

export type ResourceKind =
  | "image-file"
  | "loop-device"
  | "partition-scan"
  | "mount"
  | "volume-group"
  | "logical-volume"
  | "luks"
  | "md-array";

export interface Resource {
  /** Unique within a journal, e.g. "loop-device:image0" or "mount:/". */
  id: string;
  kind: ResourceKind;
  /** The node that owns it. */
  node: string;
  /** What releasing it needs: a path, a device, a mount target, a VG or mapping name. */
  detail: Record<string, string>;
}

/**
 * How a phase releases what it holds: `umount` and `cleanup` deactivate (the LVs, LUKS header and md
 * superblocks stay in the image for the next boot); rollback and `delete` remove them.
 */
export type ReleaseMode = "deactivate" | "remove";

type JournalLine =
  | { op: "take"; at: string; resource: Resource }
  | { op: "update"; at: string; id: string; detail: Record<string, string> }
  | { op: "release"; at: string; id: string };

export class Journal {
  private constructor(private readonly file: string) {}

  /**
   * Opens (creating if needed) the journal at `file`. A torn last line left by a crash is cut off first,
   * so that new records start on a line of their own.
   */
  static open(file: string): Journal {
    closeSync(openSync(file, "a", 0o600));
    const text = readFileSync(file, "utf8");
    if (text.length > 0 && !text.endsWith("\n")) {
      truncateSync(file, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1)));
    }
    return new Journal(file);
  }

  /** Records that a resource is about to be taken; returns once the record is on disk. */
  take(resource: Resource): void {
    this.append({ op: "take", at: new Date().toISOString(), resource });
  }

  /** Adds what was learnt after taking it (e.g. which /dev/loopN `losetup --find` chose). */
  update(id: string, detail: Record<string, string>): void {
    this.append({ op: "update", at: new Date().toISOString(), id, detail });
  }

  release(id: string): void {
    this.append({ op: "release", at: new Date().toISOString(), id });
  }

  /** Resources taken and not released, in the order they were taken. */
  held(): Resource[] {
    return replay(this.file);
  }

  private append(line: JournalLine): void {
    const fd = openSync(this.file, "a", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Replays a journal file. Lines that do not parse (a torn last write) are skipped. */
export function replay(file: string): Resource[] {
  if (!existsSync(file)) return [];
  const held = new Map<string, Resource>();
  const lines = readFileSync(file, "utf8").split("\n");
  lines.forEach((text, index) => {
    if (text.trim() === "") return;
    let line: JournalLine;
    try {
      line = JSON.parse(text) as JournalLine;
    } catch {
      // Only the last line can be torn by a crash; anything else means the file was damaged.
      if (index < lines.length - 2 || (index === lines.length - 2 && lines[lines.length - 1] !== ""))
        throw new StateError(`${file}: line ${index + 1} is not a journal record; the journal is damaged`);
      return;
    }
    if (line.op === "take") {
      held.delete(line.resource.id); // re-taken after a release: newest position
      held.set(line.resource.id, line.resource);
    } else if (line.op === "update") {
      const resource = held.get(line.id);
      if (resource) resource.detail = { ...resource.detail, ...line.detail };
    } else {
      held.delete(line.id);
    }
  });
  return [...held.values()];
}
