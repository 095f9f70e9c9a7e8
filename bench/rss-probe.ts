/**
 * Preloaded into blocksmith's node process by the offline-build benchmark (NODE_OPTIONS=--import) to
 * record that process's own peak RSS: GNU time reports the largest process of the tree, which may be
 * an mkfs tool, and the goal "peak RSS < 100 MiB" is about blocksmith streaming, not about mke2fs.
 */
import { writeFileSync } from "node:fs";

const rssFile = process.env.BLOCKSMITH_BENCH_RSS_FILE;
if (rssFile !== undefined) {
  // maxRSS is RUSAGE_SELF in KiB: this process only, children excluded.
  process.on("exit", () => writeFileSync(rssFile, String(process.resourceUsage().maxRSS)));
}
