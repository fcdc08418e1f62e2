import assert from "node:assert/strict";
import { createHash, type Hash } from "node:crypto";
import { parseResponseBody } from "../../lib/transport/cloud_types.ts";
import { startEmulator } from "../../lib/emulator/server.ts";
import { CA_PEM } from "./helpers.ts";

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
const boundary = "----emulator-memory-test";

/** A multipart upload of TOTAL bytes made on the fly, noting the peak RSS as it goes. */
async function* multipart(digest: Hash, rss: { peak: number }): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  yield encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="request"\r\n\r\n` +
      `{"request":{"features":["te"],"file_name":"big.bin"}}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`,
  );
  const block = new Uint8Array(MiB);
  for (let sent = 0; sent < TOTAL; sent += MiB) {
    // Varying content, so nothing could be deduplicated or compressed away.
    new DataView(block.buffer).setUint32(0, sent / MiB);
    block.fill(sent / MiB % 251, 4);
    digest.update(block);
    rss.peak = Math.max(rss.peak, Deno.memoryUsage().rss);
    yield block.slice();
  }
  yield encoder.encode(`\r\n--${boundary}--\r\n`);
}

Deno.test("a 256 MiB upload streams through the emulator in constant memory", async () => {
  const emulator = await startEmulator({ port: 0, emulationMs: 0 });
  // HTTP/1.1: Deno's HTTP/2 upload path is several times slower, and this
  // test is about the server's memory, not the transport.
  const client = Deno.createHttpClient({ caCerts: [CA_PEM], http2: false });
  try {
    const expected = createHash("sha1");
    const rss = { peak: 0 };
    const base = Deno.memoryUsage().rss;
    const res = await fetch(`${emulator.url}/tecloud/api/v1/file/upload`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body: ReadableStream.from(multipart(expected, rss)),
      client,
    });
    const answer = parseResponseBody(await res.json(), "upload answer").items[0];
    const peak = Math.max(rss.peak, Deno.memoryUsage().rss);
    assert.equal(res.status, 200);
    assert.equal(answer.status.code, 1002);
    assert.equal(answer.sha1, expected.digest("hex"));
    assert.equal(emulator.stats().upload_bytes, TOTAL);
    const growth = (peak - base) / MiB;
    // Holding the upload anywhere costs at least its 256 MiB (req.formData()
    // measured +530 MiB). Streaming does not reach 64 MiB here only because
    // V8 collects the transport's spent chunks lazily: a bare Deno.serve that
    // just drains the same upload grows RSS by 60-90 MiB, and this test
    // measured 75-100 MiB (client and server share the process). Half the
    // upload size tells the two apart with margin on both sides.
    assert.ok(growth < 128, `RSS grew by ${growth.toFixed(1)} MiB during a 256 MiB upload`);
  } finally {
    client.close();
    await emulator.close();
  }
});
