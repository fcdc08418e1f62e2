import assert from "node:assert/strict";
import { join } from "node:path";
import { replaceFileStreamed } from "../../lib/fs/replace_streamed.ts";
import { listFiles, tempDir } from "../helpers.ts";

Deno.test("a streamed file replaces the old one whole, written in batches", async () => {
  await using dir = await tempDir();
  const dest = join(dir.path, "index.html");
  const temp = join(dir.path, "tmp");
  await Deno.mkdir(temp);
  await Deno.writeTextFile(dest, "old");
  const piece = "<tr><td>é</td></tr>\n";
  async function* rows() {
    for (let i = 0; i < 10_000; i++) yield piece;
  }
  await replaceFileStreamed(dest, rows, { tempDir: temp });
  assert.equal(await Deno.readTextFile(dest), piece.repeat(10_000));
  assert.deepEqual(await listFiles(temp), []);
});

Deno.test("a failure while making the text leaves the old file and no temporary file", async () => {
  await using dir = await tempDir();
  const dest = join(dir.path, "index.html");
  await Deno.writeTextFile(dest, "old");
  async function* failing() {
    yield "x".repeat(1 << 17);
    throw new Error("log unreadable");
  }
  await assert.rejects(
    replaceFileStreamed(dest, failing),
    new RegExp(`^Error: cannot write ${dest}: log unreadable$`),
  );
  assert.equal(await Deno.readTextFile(dest), "old");
  assert.deepEqual(await listFiles(dir.path), ["index.html"]);
});
