import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CommandTicker } from "../../../src/cli/program.js";

describe("progress of long commands", () => {
  it("counts seconds on a terminal and clears the line when the command ends", async () => {
    let text = "";
    const ticker = new CommandTicker({
      stdout: () => undefined,
      stderr: (t) => (text += t),
      env: {},
      stderrIsTty: true,
    });
    ticker.start("make ext4 on root");
    await sleep(1100);
    ticker.stop();
    assert.ok(text.includes("\r\x1b[K    … make ext4 on root (1 s)"), JSON.stringify(text));
    assert.ok(text.endsWith("\r\x1b[K"));
  });

  it("prints nothing when stderr is not a terminal", async () => {
    let text = "";
    const ticker = new CommandTicker({ stdout: () => undefined, stderr: (t) => (text += t), env: {} });
    ticker.start("x");
    await sleep(1100);
    ticker.stop();
    assert.equal(text, "");
  });
});
