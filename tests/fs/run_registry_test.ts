// The registry of running scans trusts nothing it finds in a shared folder.
import assert from "node:assert/strict";
import { join } from "node:path";
import { RunRegistry } from "../../lib/fs/run_registry.ts";
import { listFiles, withTempDir } from "../helpers.ts";

const entry = (input: string) => JSON.stringify({ input, pid: 1, started: "2026-01-01T00:00:00Z" });

Deno.test("an entry left by a dead process (its lock free) is ignored and cleared", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "dead.run"), entry("/drop"));
    using registered = await RunRegistry.enter("/drop/finance", { dir });
    assert.deepEqual(await listFiles(dir), [registered.path!.slice(dir.length + 1)]);
  });
});

Deno.test("a registry folder that is a link is not used: a warning, and the run goes on", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "target"));
    await Deno.symlink(join(dir, "target"), join(dir, "runs"));
    const warnings: string[] = [];
    using registered = await RunRegistry.enter("/drop", {
      dir: join(dir, "runs"),
      onWarning: (message) => warnings.push(message),
    });
    assert.equal(registered.path, undefined);
    assert.match(
      warnings.join("\n"),
      /Cannot check for overlapping runs in .*runs: it is not a folder/,
    );
    assert.deepEqual(await listFiles(join(dir, "target")), [], "nothing written through the link");
  });
});
