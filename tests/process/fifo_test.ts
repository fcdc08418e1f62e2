// FIFOs need `mkfifo` (Deno has no API to make one), hence --allow-run here. Nothing
// te-scan opens may wait on one: its opens never block, so a FIFO is refused, not waited on.
import assert from "node:assert/strict";
import { join } from "node:path";
import { closeSync, constants, openSync } from "node:fs";
import { walk } from "../../lib/pipeline/walk.ts";
import { hashFile } from "../../lib/pipeline/hash.ts";
import { FileChangedError } from "../../lib/fs/identity.ts";
import { fileChunks } from "../../lib/transport/upload_body.ts";
import { CA_FILE, captureScan, scanFolders, sortFlags, tempDir, within } from "../helpers.ts";
import { HostileWireServer, type WirePlan, type WireRequest } from "../transport/hostile_wire.ts";

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

Deno.test("hashing refuses a FIFO swapped in after the walk, in one line, without waiting", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "pipe");
  await mkfifo(path);
  await assert.rejects(within(10, hashFile(path, { expectedSize: 3 })), {
    message: `cannot read: ${path}: not a regular file (a FIFO)`,
  });
});

Deno.test("an upload refuses a FIFO swapped in after hashing as a changed file", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "pipe");
  await mkfifo(path);
  const chunks = Array.fromAsync(fileChunks({ path, size: 3, name: "pipe" }));
  await assert.rejects(within(10, chunks), FileChangedError);
});

/** NOT_FOUND for every hash a query asks about, as an appliance that never saw them. */
function notFoundFor(request: WireRequest): WirePlan {
  const asked = JSON.parse(new TextDecoder().decode(request.body)).request as { sha1: string }[];
  const status = { code: 1004, label: "NOT_FOUND", message: "Could not find the file." };
  const response = asked.map(({ sha1 }) => ({ status, sha1, features: ["te"], te: { status } }));
  return {
    kind: "send",
    status: 200,
    body: new TextEncoder().encode(JSON.stringify({ response })),
  };
}

Deno.test("a FIFO swapped in after hashing ends the run with exit 2 and the file in place", async () => {
  await using dir = await tempDir();
  const folders = scanFolders(dir.path);
  await Deno.mkdir(folders.input);
  const path = join(folders.input, "a.txt");
  await Deno.writeTextFile(path, "hashed as a regular file\n");
  // The cache query shows the file was hashed: swap it for a FIFO before answering.
  let swapped: Promise<void> | undefined;
  const server = new HostileWireServer(async (request) => {
    const body = new TextDecoder().decode(request.body);
    if (request.target.endsWith("/query") && !body.includes("0".repeat(40))) {
      swapped ??= Deno.remove(path).then(() => mkfifo(path));
      await swapped;
    }
    return request.target.endsWith("/query")
      ? notFoundFor(request)
      : { kind: "send", status: 500, body: new Uint8Array() };
  });
  try {
    const argv = [...sortFlags(folders), "--ip", `127.0.0.1:${server.port}`, "--ca-cert", CA_FILE];
    const run = await within(60, captureScan([...argv, "--poll-interval", "0.05"]));
    const said = [...run.out, ...run.err].join("\n");
    assert.equal(run.code, 2, said);
    assert.match(said, /a\.txt.*changed while being scanned/);
    assert.ok(swapped, "the scan never asked about the file");
    assert.ok((await Deno.lstat(path)).isFifo, "the FIFO is left where it was");
    const summary = JSON.parse(await Deno.readTextFile(join(folders.rep, "summary.json")));
    assert.equal(summary.exit_code, 2, "summary.json was written");
  } finally {
    // Without the fix a read of the FIFO waits for a writer: give it one, so the suite ends.
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch { /* no reader waiting */ }
    await server.close();
  }
});
