/**
 * Making a file system from its subtree: a private namespace, the staging view in it, then the mkfs
 * commands run inside with the view's placeholders filled in (`{staging}`, `{staging-entries}`, `{proto}`).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Runner } from "../core/runner.js";
import type { OfflineCommand } from "../nodes/level2/mkfs/offline.js";
import { xfsProto } from "../nodes/level2/mkfs/xfs-proto.js";
import { MountNamespace, type Owner } from "./namespace.js";
import type { Population } from "./populate.js";
import { buildStaging } from "./staging.js";

export async function makePopulated(
  commands: readonly OfflineCommand[],
  population: Population,
  options: { work: string; name: string; owner: Owner; run: Runner; epochSeconds?: number },
): Promise<void> {
  const base = mkdtempSync(join(options.work, `${options.name}-`));
  const staging = join(base, "view");
  const scratch = join(base, "scratch");
  mkdirSync(staging);
  mkdirSync(scratch);
  const ns = await MountNamespace.open(options.owner, options.run);
  try {
    const space = { run: ns.run.bind(ns), host: ns.host.bind(ns) };
    await buildStaging(
      {
        staging,
        scratch,
        source: population.source !== null && existsSync(population.source) ? population.source : null,
        mountPointDirs: population.mountPointDirs,
        files: population.files,
        ...(options.epochSeconds !== undefined ? { epochSeconds: options.epochSeconds } : {}),
      },
      space,
    );
    let protoFile: string | undefined;
    if (commands.some((command) => command.argv.includes("{proto}"))) {
      protoFile = join(base, "xfs.proto");
      writeFileSync(protoFile, xfsProto(staging, { host: space.host, mapIds: ns.mapIds.bind(ns) }));
    }
    for (const command of commands) {
      const argv = command.argv.flatMap((arg) => {
        if (arg === "{staging-entries}")
          return readdirSync(ns.host(staging))
            .sort()
            .map((entry) => join(staging, entry));
        if (arg === "{proto}") return [protoFile!];
        return [arg.replaceAll("{staging}", staging)];
      });
      // An mcopy of an empty directory has nothing to copy (and mcopy refuses no sources).
      if (command.argv.includes("{staging-entries}") && argv.length === command.argv.length - 1) continue;
      await ns.run(argv, command.purpose, command.env !== undefined ? { env: command.env } : {});
    }
  } finally {
    await ns.close();
  }
}
