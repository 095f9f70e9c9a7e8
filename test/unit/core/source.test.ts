import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../../src/core/errors.js";
import { parseSource } from "../../../src/core/source.js";

const text = `- partitioning:
    base: image0
    partitions:
      - name: root
        size:
      - name: var
        size: 1G
`;

describe("source positions", () => {
  it("locates values and keys by path (1-based line and column)", () => {
    const doc = parseSource(text, "c.yaml");
    assert.deepEqual(doc.locate([0, "partitioning", "base"]), {
      file: "c.yaml",
      path: [0, "partitioning", "base"],
      line: 2,
      column: 11,
    });
    assert.equal(doc.locate([0, "partitioning", "partitions", 1, "size"]).line, 7);
    assert.equal(doc.locate([0, "partitioning", "partitions", 1, "size"], { key: true }).column, 9);
  });
  it("points at the key when a value is empty, and at the nearest ancestor when a path is absent", () => {
    const doc = parseSource(text, "c.yaml");
    assert.equal(doc.locate([0, "partitioning", "partitions", 0, "size"]).line, 5);
    assert.equal(doc.locate([0, "partitioning", "partitions", 0, "nope"]).line, 4);
  });
  it("reads JSON too", () => {
    const doc = parseSource('[{"local_loop": {"name": "image0"}}]', "c.json");
    assert.deepEqual(doc.data, [{ local_loop: { name: "image0" } }]);
    assert.equal(doc.locate([0, "local_loop", "name"]).column, 26);
  });
  it("reports syntax errors with their position", () => {
    assert.throws(
      () => parseSource("- a: [1, 2\n", "bad.yaml"),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems[0]!.at?.file === "bad.yaml" &&
        error.problems[0]!.at.line !== undefined,
    );
  });
});
