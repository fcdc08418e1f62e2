// FIFOs need `mkfifo` (Deno has no API to make one), hence --allow-run here.
import assert from "node:assert/strict";
import { join } from "node:path";
import { walk } from "../../lib/pipeline/walk.ts";
import { tempDir } from "../helpers.ts";

async function mkfifo(path: string): Promise<void> {
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.equal(made.code, 0, "mkfifo failed");
}

Deno.test("the walk skips a FIFO without opening it (opening would block)", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "plain.txt"), "x");
  await mkfifo(join(dir.path, "pipe"));
  const items = await Array.fromAsync(walk({ root: dir.path }));
  assert.deepEqual(
    items.map((i) => `${i.kind} ${i.relPath}${i.kind === "skipped" ? `: ${i.reason}` : ""}`),
    ["skipped pipe: FIFO", "file plain.txt"],
  );
});

Deno.test("a FIFO as the input errors the walk in one line instead of blocking", async () => {
  await using dir = await tempDir();
  const root = join(dir.path, "fifo");
  await mkfifo(root);
  await assert.rejects(Array.fromAsync(walk({ root })), {
    message: `input is neither a folder nor a regular file: ${root}`,
  });
});
