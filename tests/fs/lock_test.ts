import assert from "node:assert/strict";
import { join } from "node:path";
import { LockedError, RunLock } from "../../lib/fs/lock.ts";
import { withTempDir } from "../helpers.ts";

Deno.test("a second run on the same reports folder is told who holds it", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await Deno.mkdir(input);
    using _first = await RunLock.acquire(input, join(dir, "lock"));
    await assert.rejects(RunLock.acquire(input, join(dir, "lock")), (error) => {
      assert.ok(error instanceof LockedError);
      const holder = new RegExp(
        `^another te-scan \\(pid ${Deno.pid}, started \\S+Z\\) is scanning `,
      );
      assert.match(error.message, holder);
      assert.ok(error.message.endsWith(input));
      return true;
    });
  });
});

Deno.test("a second run on the same input into another reports folder is refused, saying so", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await Deno.mkdir(input);
    using _first = await RunLock.acquire(input, join(dir, "lock-a"));
    await assert.rejects(
      RunLock.acquire(input, join(dir, "lock-b")),
      new LockedError(`another te-scan is scanning ${input} (into another reports folder)`),
    );
    // The refused run let go of what it had taken: the other reports folder is free.
    using _other = await RunLock.acquire(undefined, join(dir, "lock-b"));
  });
});
