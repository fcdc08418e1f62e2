/**
 * An answer that names the file's sha1 but another md5 is about other
 * content: it is refused without `av` too (md5 is always computed).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  CA_FILE,
  captureScan,
  listFiles,
  readFixture,
  scanFolders,
  sortFlags,
  tempDir,
  within,
} from "../helpers.ts";
import { HostileWireServer, type WireRequest } from "./hostile_wire.ts";

const NO_SUCH_SHA1 = "0".repeat(40);

/** Every request is answered FOUND benign with `sha1` and a wrong md5 (the preflight excepted). */
function wrongMd5Server(sha1: string, found: Record<string, unknown>): HostileWireServer {
  const encoder = new TextEncoder();
  return new HostileWireServer((request: WireRequest) => {
    const text = new TextDecoder().decode(request.body);
    const item = text.includes(NO_SUCH_SHA1)
      ? {
        status: { code: 1004, label: "NOT_FOUND", message: "Could not find the requested file." },
        sha1: NO_SUCH_SHA1,
        features: ["te"],
        te: { status: { code: 1004, label: "NOT_FOUND", message: "" } },
      }
      : { ...found, sha1, md5: "f".repeat(32), sha256: undefined };
    const body = encoder.encode(JSON.stringify({ response: [item] }));
    return { kind: "send", status: 200, headers: { "content-type": "application/json" }, body };
  });
}

Deno.test("an answer with the file's sha1 and a wrong md5 is refused without av: nothing is published", async () => {
  await using dir = await tempDir();
  const folders = scanFolders(dir.path);
  await Deno.mkdir(folders.input);
  const bytes = new TextEncoder().encode("plain text, never seen by this appliance\n");
  await Deno.writeFile(join(folders.input, "a.txt"), bytes);
  const sha1 = createHash("sha1").update(bytes).digest("hex");
  const fixture = await readFixture("benignResponseFound.json") as { response: unknown[] };
  const server = wrongMd5Server(sha1, fixture.response[0] as Record<string, unknown>);
  try {
    const run = await within(
      60,
      captureScan([
        ...sortFlags(folders),
        ...["--ip", `127.0.0.1:${server.port}`, "--ca-cert", CA_FILE, "--features", "te"],
        ...["--poll-interval", "0.02", "--timeout", "1", "--retries", "1", "--quiet"],
      ]),
    );
    assert.equal(run.code, 2, [...run.out, ...run.err].join("\n"));
  } finally {
    await server.close();
  }
  assert.deepEqual(await listFiles(folders.out), []);
  // Unresolved: set aside whole with the unresolved files, never published.
  assert.deepEqual(await listFiles(folders.error), ["a.txt"]);
  assert.deepEqual(await Deno.readFile(join(folders.error, "a.txt")), bytes);
});
