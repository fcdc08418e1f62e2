// A gateway upload of several hundred MB: the body's Content-Length is the
// bytes sent, and the emulator decodes the very file that was hashed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudClient } from "../../lib/transport/cloud_client.ts";
import { GatewayTransport, TPAPI_PATH } from "../../lib/transport/gateway.ts";
import { HttpClient } from "../../lib/transport/http.ts";
import { hashFile } from "../../lib/pipeline/hash.ts";
import { base64Length } from "../../lib/transport/upload_body.ts";
import {
  DEFAULT_CA_PEM,
  DEFAULT_CERT_PEM,
  DEFAULT_KEY_PEM,
  startEmulator,
} from "../../lib/emulator/mod.ts";
import { tempDir } from "../helpers.ts";

const KEY = "large-upload-key";
const BLOCK = 1_000_003; // prime: the pattern never lines up with reads or base64 groups
const BLOCKS = 300;

/** ~300 MB of patterned content whose size is not a multiple of 3. */
async function writePatterned(path: string): Promise<number> {
  const block = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) block[i] = (i * 2_654_435_761) >>> 24;
  using file = await Deno.open(path, { write: true, createNew: true });
  const writer = file.writable.getWriter();
  for (let n = 0; n < BLOCKS; n++) {
    block[0] = n & 0xff; // no two blocks alike
    await writer.write(block.slice());
  }
  await writer.write(new Uint8Array([1, 2]));
  await writer.close();
  return BLOCK * BLOCKS + 2;
}

Deno.test("a several-hundred-MB gateway upload: Content-Length is the bytes sent, same sha1 decoded", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "large.bin");
  const size = await writePatterned(path);
  assert.equal(size % 3, 2);
  const { sha1, md5 } = await hashFile(path);

  const emulator = await startEmulator({ port: 0, apiKey: KEY });
  // In front of the emulator: a proxy that counts the bytes of the body it passes on.
  const onward = Deno.createHttpClient({ caCerts: [DEFAULT_CA_PEM], http2: false });
  const seen = { declared: -1, counted: 0 };
  const proxy = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: DEFAULT_CERT_PEM,
    key: DEFAULT_KEY_PEM,
    onListen() {},
  }, async (request) => {
    seen.declared = Number(request.headers.get("content-length") ?? -1);
    const body = request.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen.counted += chunk.length;
          controller.enqueue(chunk);
        },
      }),
    );
    const answer = await fetch(`${emulator.url}${new URL(request.url).pathname}`, {
      method: "POST",
      body,
      client: onward,
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });
  const trust = { kind: "ca" as const, caPem: [DEFAULT_CA_PEM] };
  const http = new HttpClient(`https://127.0.0.1:${proxy.addr.port}`, { trust });
  const gateway = new GatewayTransport(
    new CloudClient(http, { apiPath: TPAPI_PATH, retry: { attempts: 1, baseMs: 1, maxMs: 1 } }),
    new CloudClient(http),
    { apiKey: KEY, features: ["te"], reports: ["summary"], batchSize: 1 },
  );
  try {
    const { item } = await gateway.upload({ path, name: "large.bin", size, sha1, md5 });
    assert.equal(item.sha1, sha1, "the emulator decoded the file that was hashed");
    assert.equal(item.md5, md5);
    assert.equal(emulator.stats().tpapi_upload_bytes, size);
    assert.equal(seen.declared, seen.counted, "Content-Length is the bytes sent");
    assert.ok(seen.counted > base64Length(size), "the whole base64 and its JSON envelope");
    assert.ok(seen.counted - base64Length(size) < 1024, "and nothing else");
  } finally {
    gateway.close();
    onward.close();
    await proxy.shutdown();
    await emulator.close();
    await Deno.remove(path);
  }
});
