// The registry of running scans neither follows a link nor waits on a FIFO put among its
// entries (mkfifo needs --allow-run, hence here).
import assert from "node:assert/strict";
import { join } from "node:path";
import { RunRegistry } from "../../lib/fs/run_registry.ts";
import { withTempDir } from "../helpers.ts";

const entry = (input: string) => JSON.stringify({ input, pid: 1, started: "2026-01-01T00:00:00Z" });

Deno.test("a link or a FIFO in place of an entry is not followed or waited on", async () => {
  await withTempDir(async (dir) => {
    const elsewhere = join(dir, "elsewhere.json");
    await Deno.writeTextFile(elsewhere, entry("/drop"));
    // A live entry, were it reached: following the link would refuse the run.
    using held = await Deno.open(elsewhere, { read: true, write: true });
    await held.lock(true);
    await Deno.mkdir(join(dir, "runs"));
    await Deno.symlink(elsewhere, join(dir, "runs", "link.run"));
    const fifo = new Deno.Command("mkfifo", { args: [join(dir, "runs", "fifo.run")] });
    assert.equal((await fifo.output()).code, 0);
    using registered = await RunRegistry.enter("/drop", { dir: join(dir, "runs") });
    assert.ok(registered.path, "registered");
  });
});
