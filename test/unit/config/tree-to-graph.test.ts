import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configToGraph } from "../../../src/config/load.js";
import { graphToJson, pythonStr } from "../../../src/config/tree-to-graph.js";
import { ConfigError } from "../../../src/core/errors.js";
import { parseSource } from "../../../src/core/source.js";

const graphOf = (text: string) => graphToJson(configToGraph(parseSource(text, "t.yaml")));

describe("tree → graph (DIB's config_tree_to_graph)", () => {
  it("derives names as <plugin>_<base> and emits children first", () => {
    const graph = graphOf(`
- local_loop:
    name: image0
    mkfs:
      type: ext4
      mount:
        mount_point: /
        fstab: {}
`);
    assert.deepEqual(graph, [
      { fstab: { base: "mount_mkfs_image0", name: "fstab_mount_mkfs_image0" } },
      { mount: { base: "mkfs_image0", name: "mount_mkfs_image0", mount_point: "/" } },
      { mkfs: { base: "image0", name: "mkfs_image0", type: "ext4" } },
      { local_loop: { name: "image0" } },
    ]);
  });

  it("keeps partitions inside the partitioning entry with the partitioning's base", () => {
    const graph = graphOf(`
- partitioning:
    base: image0
    label: mbr
    partitions:
      - name: root
        base: elsewhere
        flags: [boot]
        size: 100%
        mkfs:
          type: xfs
`);
    assert.deepEqual(graph, [
      { mkfs: { base: "root", name: "mkfs_root", type: "xfs" } },
      {
        partitioning: {
          base: "image0",
          name: "partitioning_image0",
          label: "mbr",
          partitions: [{ name: "root", base: "image0", flags: ["boot"], size: "100%" }],
        },
      },
    ]);
  });

  it("orders keys base, name, then the rest as written", () => {
    const graph = graphOf(`
- mkfs:
    type: ext4
    name: fs
    base: p1
`);
    assert.deepEqual(Object.keys(graph[0]!.mkfs!), ["base", "name", "type"]);
  });

  it("formats a list base like Python's str() when deriving a name", () => {
    assert.equal(pythonStr(["root"]), "['root']");
    assert.equal(pythonStr(["a", "b"]), "['a', 'b']");
    assert.equal(pythonStr(3), "3");
    const graph = graphOf(`
- lvm:
    base: [root]
    pvs: []
`);
    assert.equal(graph[0]!.lvm!.name, "lvm_['root']");
  });

  it("passes the graph form through unchanged", () => {
    const text = `
- local_loop: {name: image0}
- mkfs: {name: fs, base: image0, type: ext4}
- mount: {name: m, base: fs, mount_point: /}
`;
    assert.deepEqual(graphOf(text), [
      { local_loop: { name: "image0" } },
      { mkfs: { base: "image0", name: "fs", type: "ext4" } },
      { mount: { base: "fs", name: "m", mount_point: "/" } },
    ]);
  });

  it("reads YAML 1.1 like PyYAML (octal, yes/no)", () => {
    const graph = graphOf(`
- local_loop: {name: image0, a: 0700, b: yes, c: y, d: off, e: 2001-12-14}
`);
    assert.deepEqual(graph[0]!.local_loop, {
      name: "image0",
      a: 448,
      b: true,
      c: "y",
      d: false,
      e: "2001-12-14",
    });
  });

  it("reports malformed input with line numbers instead of crashing like DIB", () => {
    const cases: [string, RegExp, number][] = [
      ["local_loop:\n  name: x\n", /must be a list/, 1],
      ["- local_loop: {name: a}\n  mkfs: {type: ext4}\n", /exactly one key/, 1],
      ["- local_lop:\n    name: a\n", /not a known plugin/, 1],
      ["- mkfs:\n    type: ext4\n", /neither a name nor a base/, 2],
      ["- partitioning:\n    name: p\n    label: mbr\n    partitions: []\n", /needs a base/, 2],
      ["- partitioning:\n    label: mbr\n", /neither a name nor a base/, 2],
      [
        "- partitioning:\n    base: i\n    partitions:\n      - size: 1G\n        mkfs: {type: ext4}\n",
        /needs a name/,
        4,
      ],
    ];
    for (const [text, pattern, line] of cases) {
      assert.throws(
        () => graphOf(text),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, pattern);
          assert.equal(error.problems[0]!.at?.line, line, `${pattern} line`);
          return true;
        },
      );
    }
  });

  it("suggests the plugin a misspelt key was meant to be", () => {
    assert.throws(() => graphOf("- local_lop:\n    name: a\n"), /did you mean "local_loop"/);
  });

  it("refuses duplicate keys PyYAML would silently drop", () => {
    assert.throws(() => graphOf("- local_loop:\n    name: a\n    name: b\n"), /each key may appear once/);
  });
});
