/**
 * Planner benchmark: a generated config of about 1,000 nodes (images × GPT partitions × mkfs/mount/fstab),
 * planned by blocksmith and converted + graphed by diskimage-builder in the same run, alternately.
 * Prints medians and the ratio; nothing here is asserted (speed goals are not test assertions).
 *   npm run bench
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../src/config/load.js";
import { planLayout } from "../src/plan/planner.js";

const IMAGES = 10;
const PARTITIONS = 25; // × (partition, mkfs, mount, fstab) + partitioning + image = 102 nodes per image
const ROUNDS = 7;

function generateConfig(): string {
  const lines: string[] = [];
  for (let image = 0; image < IMAGES; image += 1) {
    lines.push(`- local_loop:\n    name: image${image}\n    size: 64GiB`);
    lines.push(`- partitioning:\n    base: image${image}\n    label: gpt\n    partitions:`);
    for (let part = 0; part < PARTITIONS; part += 1) {
      const name = `p${image}_${part}`;
      lines.push(`      - name: ${name}\n        size: ${part === PARTITIONS - 1 ? "100%" : "1GiB"}`);
      lines.push(`        mkfs:\n          type: ext4\n          label: l${image}_${part}`);
      lines.push(`          mount:\n            mount_point: /srv/i${image}/p${part}\n            fstab: {}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const DIB_SCRIPT = `
import sys, yaml
from diskimage_builder.block_device.config import config_tree_to_graph, create_graph
from diskimage_builder.block_device.blockdevice import BlockDeviceState
config = config_tree_to_graph(yaml.safe_load(open(sys.argv[1])))
create_graph(config, {"mount-base": "/mnt", "image-dir": "/tmp", "image-size": "1G"}, BlockDeviceState())
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const work = mkdtempSync(join(tmpdir(), "blocksmith-bench-"));
try {
  const configFile = join(work, "big.yaml");
  writeFileSync(configFile, generateConfig());
  const blocksmithMs: number[] = [];
  const dibMs: number[] = [];
  let nodes = 0;
  let dibAvailable = true;
  for (let round = 0; round < ROUNDS; round += 1) {
    const start = performance.now();
    const { model } = loadConfig(configFile);
    planLayout(model);
    blocksmithMs.push(performance.now() - start);
    nodes = model.nodes.size;
    if (dibAvailable) {
      // DIB's time includes its interpreter start-up; measure that separately and subtract it.
      const t0 = performance.now();
      const run = spawnSync("/usr/bin/python3", ["-c", DIB_SCRIPT, configFile], { encoding: "utf8" });
      const t1 = performance.now();
      const idle = spawnSync("/usr/bin/python3", ["-c", "import yaml, networkx, stevedore"], {
        encoding: "utf8",
      });
      const t2 = performance.now();
      if (run.status !== 0 || idle.status !== 0) {
        dibAvailable = false;
        console.log(`diskimage-builder not measured: ${run.stderr.trim().split("\n").pop() ?? "failed"}`);
      } else {
        dibMs.push(t1 - t0 - (t2 - t1));
      }
    }
  }
  console.log(
    `config: ${nodes} nodes (${IMAGES} images × ${PARTITIONS} GPT partitions with mkfs, mount, fstab)`,
  );
  console.log(
    `blocksmith load + validate + plan: median ${median(blocksmithMs).toFixed(1)} ms over ${ROUNDS} rounds`,
  );
  if (dibMs.length > 0) {
    console.log(
      `diskimage-builder tree→graph + create_graph (start-up subtracted): median ${median(dibMs).toFixed(1)} ms`,
    );
    console.log(`ratio blocksmith / DIB: ${(median(blocksmithMs) / median(dibMs)).toFixed(2)}×`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
