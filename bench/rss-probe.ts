/**
 * Preloaded into blocksmith's node processes by the offline-build benchmark (NODE_OPTIONS=--import) to
 * record each one's own peak RSS: GNU time reports the largest process of the tree, which may be an
 * mkfs tool, and the goal "peak RSS < 100 MiB" is about blocksmith streaming, not about mke2fs.
 * NODE_OPTIONS reaches node processes blocksmith starts too (its namespace worker), so each appends.
 */
import { appendFileSync } from "node:fs";

const rssFile = process.env.BLOCKSMITH_BENCH_RSS_FILE;
if (rssFile !== undefined) {
  // maxRSS is RUSAGE_SELF in KiB: this process only, children excluded.
  process.on("exit", () => appendFileSync(rssFile, `${process.resourceUsage().maxRSS}\n`));
}
