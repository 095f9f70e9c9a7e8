import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CommandError,
  type CommandLogEntry,
  formatArgv,
  requireTools,
  runCommand,
  ToolMissingError,
} from "../../../src/core/runner.js";

const node = process.execPath;

describe("runCommand", () => {
  it("runs an argv without a shell and logs start and end with the time taken", async () => {
    const log: CommandLogEntry[] = [];
    const result = await runCommand([node, "-e", "process.stdout.write(process.argv[1])", "$HOME; echo hi"], {
      purpose: "echo an argument",
      log: (entry) => log.push(entry),
    });
    // The argument arrives verbatim: no shell expanded $HOME or split on ';'.
    assert.equal(result.stdout, "$HOME; echo hi");
    assert.deepEqual(
      log.map((e) => e.phase),
      ["start", "end"],
    );
    assert.equal(log[1]!.exitCode, 0);
    assert.ok((log[1]!.durationMs ?? -1) >= 0);
  });

  it("passes input on stdin (how keys reach cryptsetup)", async () => {
    const result = await runCommand([node, "-e", "process.stdin.pipe(process.stdout)"], {
      purpose: "cat",
      input: "secret",
    });
    assert.equal(result.stdout, "secret");
  });

  it("turns a failure into a CommandError with the argv, the purpose and stderr", async () => {
    await assert.rejects(
      runCommand([node, "-e", "console.error('disk on fire'); process.exit(3)"], {
        purpose: "make ext4 on root",
      }),
      (error: unknown) => {
        assert.ok(error instanceof CommandError);
        assert.equal(error.commandExitCode, 3);
        assert.equal(error.exitCode, 8);
        assert.match(
          error.message,
          /^make ext4 on root: `.* -e '.*'` failed with exit code 3:\n {4}disk on fire/,
        );
        return true;
      },
    );
  });

  it("reports a timeout", async () => {
    await assert.rejects(
      runCommand([node, "-e", "setTimeout(() => {}, 10000)"], { purpose: "wait", timeoutMs: 200 }),
      /timed out after 200 ms/,
    );
  });

  it("a missing program is a ToolMissingError naming its Debian package", async () => {
    await assert.rejects(runCommand(["mkfs.xfs-not-installed"], { purpose: "x" }), ToolMissingError);
    await assert.rejects(
      requireTools(["sgdisk-missing", "node"], `${process.env.PATH}`),
      /missing tool: sgdisk-missing/,
    );
    const error = new ToolMissingError(["mkfs.xfs", "sgdisk"]);
    assert.match(error.message, /mkfs\.xfs \(Debian package xfsprogs\), sgdisk \(Debian package gdisk\)/);
    assert.match(error.message, /apt-get install xfsprogs gdisk/);
    assert.equal(error.exitCode, 7);
  });

  it("formats argv for messages with quoting where a shell would need it", () => {
    assert.equal(
      formatArgv(["mkfs", "-t", "ext4", "-L", "my root", "{dev:root}"]),
      "mkfs -t ext4 -L 'my root' {dev:root}",
    );
    assert.equal(formatArgv(["echo", "it's"]), `echo 'it'\\''s'`);
  });
});
