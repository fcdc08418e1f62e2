// Error answers over HTTP/2 when the request has a body the emulator refuses
// without needing it: every stream must end with the whole answer, never a
// reset (curl --http2 saw "Stream error in the HTTP/2 framing layer").
import assert from "node:assert/strict";
import http2 from "node:http2";
import { startEmulator } from "../../lib/emulator/server.ts";
import { CA_PEM } from "./helpers.ts";
import { within } from "../helpers.ts";

interface H2Reply {
  status: number;
  body: string;
}

/** One POST on an HTTP/2 session; rejects on any stream error. */
function post(
  session: http2.ClientHttp2Session,
  path: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/json",
      ...headers,
    });
    let status = 0;
    const chunks: Uint8Array[] = [];
    stream.on("response", (h) => status = Number(h[":status"]));
    stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => {
      if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
        reject(new Error(`stream reset with code ${stream.rstCode}`));
        return;
      }
      resolve({ status, body: new TextDecoder().decode(Buffer.concat(chunks)) });
    });
    stream.end(body);
  });
}

/** A query body of about `bytes` bytes: a batch of one md5 repeated. */
function bigQuery(bytes: number): Uint8Array {
  const item = { md5: "0".repeat(32), features: ["te"] };
  const count = Math.ceil(bytes / JSON.stringify(item).length);
  return new TextEncoder().encode(JSON.stringify({ request: Array(count).fill(item) }));
}

async function withSession(
  options: Parameters<typeof startEmulator>[0],
  fn: (session: http2.ClientHttp2Session) => Promise<void>,
): Promise<void> {
  const emulator = await startEmulator({ port: 0, ...options });
  const session = http2.connect(emulator.url, { ca: CA_PEM });
  try {
    await within(60, fn(session));
  } finally {
    session.close();
    await emulator.close();
  }
}

Deno.test("HTTP/2: 12 refused cloud queries with 300 KB bodies all end cleanly", async () => {
  await withSession({ mode: "cloud", apiKey: "secret" }, async (session) => {
    const body = bigQuery(300 * 1024);
    assert.ok(body.length >= 300 * 1024);
    for (let i = 0; i < 12; i++) {
      const reply = await post(session, "/tecloud/api/v1/file/query", body);
      assert.equal(reply.status, 403, `query ${i}`);
      assert.equal(JSON.parse(reply.body).response.status.code, 1010, `query ${i}`);
    }
  });
});

Deno.test("HTTP/2: other answers given before the body is read end cleanly too", async () => {
  await withSession({}, async (session) => {
    const body = bigQuery(300 * 1024);
    const routes: [string, number][] = [
      ["/no/such/route", 404],
      ["/tecloud/api/v1/file/quota", 404],
      ["/tecloud/api/v1/file/download?id=none", 404],
    ];
    for (const [path, status] of routes) {
      const reply = await post(session, path, body);
      assert.equal(reply.status, status, path);
      assert.ok(JSON.parse(reply.body).response.status.code > 1000, path);
    }
    // An upload that is not multipart, and a TPAPI body broken at its start.
    const upload = await post(session, "/tecloud/api/v1/file/upload", body, {
      "content-type": "text/plain",
    });
    assert.equal(upload.status, 400);
    assert.match(upload.body, /not multipart/);
    const tpapi = await post(session, "/UserCheck/TPAPI", new Uint8Array([0x5b, ...body]));
    assert.equal(tpapi.status, 400);
    const broken = new TextEncoder().encode(`{"request": [${"1,".repeat(150_000)}`);
    const reply = await post(session, "/tecloud/api/v1/file/query", broken);
    assert.equal(reply.status, 400);
    // The session still serves a good request afterwards.
    const ok = await post(
      session,
      "/tecloud/api/v1/file/query",
      new TextEncoder().encode(JSON.stringify({ request: [{ md5: "0".repeat(32) }] })),
    );
    assert.equal(JSON.parse(ok.body).response[0].status.code, 1004);
  });
});
