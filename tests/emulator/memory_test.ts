import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseResponseBody } from "../../lib/transport/protocol.ts";
import { parseTpapiResponseBody } from "../../lib/transport/tpapi_types.ts";
import { type EmulatorStats, startEmulator } from "../../lib/emulator/server.ts";
import { CA_PEM } from "./helpers.ts";

const MiB = 1024 * 1024;
const encoder = new TextEncoder();

/** What one measured upload gave. */
interface Measured {
  status: number;
  json: unknown;
  /** SHA-1 of the file content, as the client computed it while sending. */
  sha1: string;
  /** Peak RSS growth of the process (client and server) during the upload. */
  growthMiB: number;
  /** Peak RSS of the process during the upload. */
  peakMiB: number;
  stats: EmulatorStats;
}

/**
 * Sends `count` blocks of `size` bytes of varying content (so nothing could
 * be deduplicated or compressed away) between `head` and `tail`, each block
 * passed through `wrap`, as a streamed body to a fresh emulator; notes the
 * peak RSS as it goes.
 */
async function measuredUpload(
  path: string,
  contentType: string | undefined,
  parts: {
    head: string;
    count: number;
    size: number;
    wrap: (b: Uint8Array) => Uint8Array;
    tail: string;
  },
): Promise<Measured> {
  const emulator = await startEmulator({ port: 0, emulationMs: 0 });
  // HTTP/1.1: Deno's HTTP/2 upload path is several times slower, and these
  // tests are about the server's memory, not the transport.
  const client = Deno.createHttpClient({ caCerts: [CA_PEM], http2: false });
  const digest = createHash("sha1");
  let peak = 0;
  async function* body(): AsyncGenerator<Uint8Array> {
    yield encoder.encode(parts.head);
    const block = new Uint8Array(parts.size);
    for (let i = 0; i < parts.count; i++) {
      new DataView(block.buffer).setUint32(0, i);
      block.fill(i % 251, 4);
      digest.update(block);
      peak = Math.max(peak, Deno.memoryUsage().rss);
      yield parts.wrap(block);
    }
    yield encoder.encode(parts.tail);
  }
  try {
    const base = Deno.memoryUsage().rss;
    const res = await fetch(`${emulator.url}${path}`, {
      method: "POST",
      headers: contentType ? { "content-type": contentType } : {},
      body: ReadableStream.from(body()),
      client,
    });
    const json = await res.json();
    peak = Math.max(peak, Deno.memoryUsage().rss);
    return {
      status: res.status,
      json,
      sha1: digest.digest("hex"),
      growthMiB: (peak - base) / MiB,
      peakMiB: peak / MiB,
      stats: emulator.stats(),
    };
  } finally {
    client.close();
    await emulator.close();
  }
}

// The TPAPI test runs first: RSS does not shrink after a test, so the second
// measures against a base the first has already grown.
//
// Holding an upload anywhere costs at least its size (req.formData() measured
// +530 MiB for 256 MiB). Streaming does not stay under 64 MiB here only
// because V8 collects the transport's spent chunks lazily: a bare Deno.serve
// that just drains such an upload grows RSS by 60-90 MiB, and these tests
// measured 75-100 MiB (client and server share the process). Half the upload
// size tells the two apart with margin on both sides.
const LIMIT_MIB = 128;

Deno.test("a 192 MiB TPAPI upload (256 MiB of base64 JSON) streams in constant memory", async () => {
  // A multiple of 3, so each block's base64 stands alone.
  const size = 3 * 256 * 1024;
  // The options follow the file data, as in the guide's example: the
  // emulator cannot know while decoding whether Threat Extraction is wanted.
  const m = await measuredUpload("/UserCheck/TPAPI", undefined, {
    head: `{"request":[{"protocol_version":"1.1","api_key":"k","request_name":"UploadFile",` +
      `"file_orig_name":"big.docx","file_enc_data":"`,
    count: 256,
    size,
    wrap: (block) => encoder.encode(block.toBase64()),
    tail: `","te_options":{"file_name":"big.docx","features":["te","te_eb","av"],` +
      `"is_base64":true},"scrub_options":{"scrub_method":1}}]}`,
  });
  const [item] = parseTpapiResponseBody(m.json);
  assert.equal(m.status, 200);
  assert.equal(item.te?.status.code, 1002);
  assert.equal(item.te?.sha1, m.sha1, "the emulator's sha1 is the client's");
  assert.equal(item.scrub?.scrub_result, 17, "over the Threat Extraction size limit");
  assert.equal(m.stats.tpapi_upload_bytes, 256 * size);
  const figures = `peak RSS ${m.peakMiB.toFixed(0)} MiB, +${m.growthMiB.toFixed(1)} MiB`;
  console.log(`${figures} during a ${256 * size / MiB} MiB upload`);
  assert.ok(m.growthMiB < LIMIT_MIB, `RSS grew by ${m.growthMiB.toFixed(1)} MiB`);
});

Deno.test("a 256 MiB multipart upload streams through the emulator in constant memory", async () => {
  const boundary = "----emulator-memory-test";
  const m = await measuredUpload(
    "/tecloud/api/v1/file/upload",
    `multipart/form-data; boundary=${boundary}`,
    {
      head: `--${boundary}\r\nContent-Disposition: form-data; name="request"\r\n\r\n` +
        `{"request":{"features":["te"],"file_name":"big.bin"}}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`,
      count: 256,
      size: MiB,
      wrap: (block) => block.slice(),
      tail: `\r\n--${boundary}--\r\n`,
    },
  );
  const answer = parseResponseBody(m.json, "upload answer").items[0];
  assert.equal(m.status, 200);
  assert.equal(answer.status.code, 1002);
  assert.equal(answer.sha1, m.sha1);
  assert.equal(m.stats.upload_bytes, 256 * MiB);
  assert.ok(m.growthMiB < LIMIT_MIB, `RSS grew by ${m.growthMiB.toFixed(1)} MiB`);
});
