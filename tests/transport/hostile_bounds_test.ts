// Issue 17: answers that would hold a run for ever end it within --grace instead. The
// stand-in appliance answers the preflight as an appliance does, then answers every other
// request with a body that trickles (a byte well inside the idle timeout, never the whole)
// or one larger than the client's cap; the run must end with its documented code, every
// file still where it was, and say why.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CA_FILE,
  captureScan,
  listFiles,
  scanFolders,
  sortFlags,
  tempDir,
  within,
} from "../helpers.ts";
import { HostileWireServer, type WirePlan, type WireRequest } from "./hostile_wire.ts";

const NO_SUCH_SHA1 = "0".repeat(40);
const encoder = new TextEncoder();

/** The NOT_FOUND answer the preflight's hash gets from any appliance. */
function notFound(): WirePlan {
  const status = { code: 1004, label: "NOT_FOUND", message: "Could not find the requested file." };
  const item = { status, sha1: NO_SUCH_SHA1, features: ["te"], te: { status } };
  return { kind: "send", status: 200, body: encoder.encode(JSON.stringify({ response: [item] })) };
}

/** Answers the preflight, and every other request with `plan`. */
function appliance(plan: WirePlan): (request: WireRequest) => WirePlan {
  return (request) => {
    const body = new TextDecoder().decode(request.body);
    return request.target.endsWith("/query") && body.includes(NO_SUCH_SHA1) ? notFound() : plan;
  };
}

async function scanAgainst(plan: WirePlan) {
  await using dir = await tempDir();
  const folders = scanFolders(dir.path);
  await Deno.mkdir(folders.input);
  await Deno.writeTextFile(join(folders.input, "a.txt"), "first file\n");
  await Deno.writeTextFile(join(folders.input, "b.txt"), "second file\n");
  const server = new HostileWireServer(appliance(plan));
  try {
    const argv = [
      ...sortFlags(folders),
      ...["--ip", `127.0.0.1:${server.port}`, "--ca-cert", CA_FILE],
      ...["--request-timeout", "1", "--grace", "2", "--poll-interval", "0.05", "--timeout", "600"],
    ];
    const run = await within(120, captureScan(argv));
    return { ...run, input: await listFiles(folders.input), error: await listFiles(folders.error) };
  } finally {
    await server.close();
  }
}

Deno.test("an answer that trickles a byte at a time ends the run within --grace", async () => {
  // A byte every 200 ms is never idle for the 1 s --request-timeout; the answer would take 80 s.
  const body = encoder.encode(JSON.stringify({ response: [], pad: "x".repeat(380) }));
  const run = await scanAgainst({ kind: "send", status: 200, body, dripMs: 200 });
  const said = [...run.out, ...run.err].join("\n");
  assert.equal(run.code, 2, said);
  assert.match(said, /answer not complete within 4 s/);
  assert.match(said, /has failed for \d+ s/);
  // Nothing was judged: both files are still where they were.
  assert.deepEqual(run.input, ["a.txt", "b.txt"]);
});

Deno.test("an answer over the size cap fails its files at once, not retried past --grace", async () => {
  const body = new Uint8Array(64 * 1024 * 1024 + 1024).fill(0x20);
  const run = await scanAgainst({ kind: "send", status: 200, body });
  const said = [...run.out, ...run.err].join("\n");
  assert.equal(run.code, 2, said);
  assert.match(said, /answer larger than 67108864 bytes/);
  assert.deepEqual(run.error, ["a.txt", "b.txt"]);
});
