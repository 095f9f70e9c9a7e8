import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startWriteback } from "../../../src/offline/writeback.js";

const openDescriptors = () => readdirSync("/proc/self/fd").length;

describe("writeback pump", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "blocksmith-writeback-"));
    file = join(dir, "image.raw");
    writeFileSync(file, Buffer.alloc(1 << 20));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("syncs the real file over and over until stopped, then closes it", async () => {
    const before = openDescriptors();
    let rounds = 0;
    const pump = await startWriteback(file, {
      sync: async (handle) => {
        rounds += 1;
        await handle.datasync();
      },
    });
    for (let i = 0; i < 8; i += 1) {
      writeFileSync(file, Buffer.alloc(1 << 20, i), { flag: "r+" });
      await sleep(5);
    }
    await pump.stop();
    const afterStop = rounds;
    assert.ok(afterStop >= 2, `the pump ran ${afterStop} rounds while the file was written`);
    await sleep(60);
    assert.equal(rounds, afterStop, "no round after stop()");
    assert.equal(openDescriptors(), before, "the image's descriptor is closed");
  });

  it("waits between syncs that find nothing to write instead of spinning", async () => {
    let rounds = 0;
    const pump = await startWriteback(file, {
      sync: async () => {
        rounds += 1;
      },
      idleMs: 20,
    });
    await sleep(200);
    await pump.stop();
    // 200 ms of idle rounds 20 ms apart: about ten, never the thousands of a busy loop.
    assert.ok(rounds >= 1 && rounds <= 15, `${rounds} rounds in 200 ms`);
  });

  it("stop() returns only after the sync in flight has returned", async () => {
    let release!: () => void;
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const pump = await startWriteback(file, {
      sync: () => {
        started();
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    await inFlight;
    let stopped = false;
    const stopping = pump.stop().then(() => (stopped = true));
    await sleep(30);
    assert.equal(stopped, false);
    release();
    await stopping;
    assert.equal(stopped, true);
  });

  it("stops at the first failed sync and raises it from stop()", async () => {
    let rounds = 0;
    const pump = await startWriteback(file, {
      sync: async () => {
        rounds += 1;
        throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
      },
    });
    await sleep(30);
    await assert.rejects(pump.stop(), /EIO/);
    assert.equal(rounds, 1);
  });

  it("refuses a file that is not there", async () => {
    await assert.rejects(startWriteback(join(dir, "missing.raw")), /ENOENT/);
  });
});
