import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { Journal, replay } from "../../../src/device/journal.js";
import { StateError } from "../../../src/core/errors.js";

const work = mkdtempSync(join(tmpdir(), "blocksmith-journal-"));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;
const journalFile = () => join(work, `journal-${(counter += 1)}.jsonl`);

describe("resource journal", () => {
  it("holds what was taken and not released, in taking order, with updates", () => {
    const journal = Journal.open(journalFile());
    journal.take({
      id: "image-file:image0",
      kind: "image-file",
      node: "image0",
      detail: { path: "/tmp/i.raw" },
    });
    journal.take({
      id: "loop-device:image0",
      kind: "loop-device",
      node: "image0",
      detail: { image: "/tmp/i.raw" },
    });
    journal.update("loop-device:image0", { device: "/dev/loop3" });
    journal.take({ id: "mount:/", kind: "mount", node: "mount_root", detail: { target: "/mnt" } });
    journal.release("mount:/");
    assert.deepEqual(
      journal.held().map((r) => [r.id, r.detail]),
      [
        ["image-file:image0", { path: "/tmp/i.raw" }],
        ["loop-device:image0", { image: "/tmp/i.raw", device: "/dev/loop3" }],
      ],
    );
  });

  it("survives a torn last line (a crash mid-write) and a reopen", () => {
    const file = journalFile();
    const journal = Journal.open(file);
    journal.take({ id: "a", kind: "mount", node: "n", detail: {} });
    appendFileSync(file, '{"op":"take","at":"x","resource":{"id":"b"');
    assert.deepEqual(
      replay(file).map((r) => r.id),
      ["a"],
    );
    // Reopening cuts the torn line off, so the next record is whole.
    Journal.open(file).release("a");
    assert.deepEqual(replay(file), []);
  });

  it("refuses a journal damaged in the middle", () => {
    const file = journalFile();
    writeFileSync(file, 'garbage\n{"op":"release","at":"x","id":"a"}\n');
    assert.throws(() => replay(file), StateError);
  });

  it("an absent journal holds nothing", () => {
    assert.deepEqual(replay(join(work, "never-written.jsonl")), []);
  });

  it("replay equals a model of take/release sequences", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 })), { maxLength: 30 }),
        (ops) => {
          const file = journalFile();
          writeFileSync(file, "");
          const journal = Journal.open(file);
          const model: string[] = [];
          for (const [take, n] of ops) {
            const id = `r${n}`;
            if (take) {
              journal.take({ id, kind: "mount", node: id, detail: {} });
              model.splice(model.indexOf(id) >>> 0, model.includes(id) ? 1 : 0);
              model.push(id);
            } else {
              journal.release(id);
              if (model.includes(id)) model.splice(model.indexOf(id), 1);
            }
          }
          assert.deepEqual(
            journal.held().map((r) => r.id),
            model,
          );
        },
      ),
      { numRuns: 50 },
    );
  });
});
