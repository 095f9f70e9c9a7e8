/**
 * Keeps the disk writing while the mkfs tools are still producing the image. Left alone, the kernel holds
 * the image's dirty pages until background writeback starts (dirty_background_ratio: gigabytes on a
 * machine with much memory), so the whole image is written by the final fsync, after the tools are done,
 * and the build waits for the disk and for the CPU one after the other. Syncing the image over and over
 * while the tools run lets both work at once: each sync writes what was dirtied during the previous one.
 * (sync_file_range would start writeback without waiting, but Node has no binding for it; a waiting
 * fdatasync paces itself to the disk.)
 */
import { open } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export interface WritebackPump {
  /** Ends the loop once the sync in flight returns; raises the first error a sync met. */
  stop(): Promise<void>;
}

export interface WritebackOptions {
  /** What one round does; the file's own fdatasync unless a test watches the rounds. */
  sync?: (handle: { datasync(): Promise<void> }) => Promise<void>;
  /** A sync faster than this found nothing to write: wait `idleMs` before the next, not spin. */
  idleThresholdMs?: number;
  idleMs?: number;
}

export async function startWriteback(path: string, options: WritebackOptions = {}): Promise<WritebackPump> {
  const { sync = (handle) => handle.datasync(), idleThresholdMs = 5, idleMs = 20 } = options;
  // Read-only is enough: fdatasync flushes the file's pages whoever dirtied them.
  const handle = await open(path, "r");
  const idle = new AbortController();
  let stopping = false;
  let failure: unknown;
  const loop = (async () => {
    while (!stopping) {
      const started = performance.now();
      try {
        await sync(handle);
      } catch (error) {
        // The final fsync of the image would meet the same error; keep the first and stop pumping.
        failure = error;
        return;
      }
      if (!stopping && performance.now() - started < idleThresholdMs)
        await sleep(idleMs, undefined, { signal: idle.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stopping = true;
      idle.abort();
      await loop;
      await handle.close();
      if (failure !== undefined) throw failure;
    },
  };
}
