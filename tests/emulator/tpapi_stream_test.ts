import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseTpapiResponseBody } from "../../lib/transport/tpapi_types.ts";
import { type Harness, marked, type Reply, withEmulator } from "./helpers.ts";

const ENCODER = new TextEncoder();
const hex = (algorithm: string, bytes: Uint8Array) =>
  createHash(algorithm).update(bytes).digest("hex");

/** Posts `text` to TPAPI in chunks of `size` bytes, as a stream. */
function postChunked(h: Harness, text: string, size: number, contentType?: string): Promise<Reply> {
  const bytes = ENCODER.encode(text);
  const chunks = Array.from(
    { length: Math.ceil(bytes.length / size) },
    (_, i) => bytes.slice(i * size, (i + 1) * size),
  );
  return h.fetch("/UserCheck/TPAPI", {
    method: "POST",
    headers: contentType === undefined ? {} : { "content-type": contentType },
    body: ReadableStream.from(chunks),
  });
}

/** Bytes 0..255 repeated: their base64 holds "/" and "+". */
function binary(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 7 + 3) & 0xff);
}

Deno.test("file_enc_data escaped as PHP and wrapped as Python MIME, any Content-Type", async () => {
  await withEmulator({}, async (h) => {
    const file = binary(5000);
    const base64 = file.toBase64();
    const styles: [string, string][] = [
      ["PHP: \\/ for every slash", base64.replaceAll("/", "\\/")],
      ["Python encodebytes: \\n every 76", base64.replace(/.{76}/g, "$&\\n")],
      ["\\u escapes", base64.replace("A", "\\u0041")],
    ];
    const types = [undefined, "text/plain", "application/octet-stream", "application/json"];
    for (const [i, [style, data]] of styles.entries()) {
      // file_enc_data before the options, as in the guide's own example.
      const text = `{"request":[{"protocol_version":"1.1","api_key":"k",` +
        `"request_name":"UploadFile","file_enc_data":"${data}",` +
        `"file_orig_name":"bin.dat","te_options":{"features":["te"]}}]}`;
      const r = await postChunked(h, text, 7 + i * 13, types[i]);
      assert.equal(r.status, 200, `${style}: ${r.text}`);
      const [item] = parseTpapiResponseBody(r.json);
      assert.equal(item.te?.sha1, hex("sha1", file), style);
      assert.equal(item.te?.md5, hex("md5", file), style);
      assert.equal(item.te?.file_name, "bin.dat");
    }
    assert.equal((await h.stats()).tpapi_upload_bytes, 3 * file.length);
  });
});

Deno.test("a body cut short is refused whole and registers nothing", async () => {
  await withEmulator({}, async (h) => {
    const first = {
      protocol_version: "1.1",
      api_key: "k",
      request_name: "UploadFile",
      file_enc_data: ENCODER.encode("complete upload").toBase64(),
      te_options: {},
    };
    const text = JSON.stringify({ request: [first, first] });
    const r = await postChunked(h, text.slice(0, text.length - 40), 64);
    assert.equal(r.status, 400);
    assert.match(r.text, /Cannot parse TPAPI request: the JSON text ends early/);
    const { items } = await h.tpapi([{
      protocol_version: "1.1",
      api_key: "k",
      request_name: "QueryFile",
      sha1: hex("sha1", ENCODER.encode("complete upload")),
    }]);
    assert.equal(items[0].te?.status.code, 1004, "the complete first object was not kept");
    const stats = await h.stats();
    assert.equal(stats.tpapi_uploads, 0);
    assert.equal(stats.bad_requests, 1);
  });
});

Deno.test("bodies that are not a TPAPI envelope answer 400 naming the problem", async () => {
  await withEmulator({}, async (h) => {
    const cases: [string, RegExp][] = [
      ["", /the JSON text is empty/],
      ["[1]", /expected a JSON object/],
      ['{"requests":[]}', /no "request" field/],
      ['{"request":7}', /"request" must be an object or an array/],
      ['{"request":[],"request":[]}', /"request" is given twice/],
      ['{"request":[{"a":1}]]', /unexpected "]" at byte 20/],
    ];
    for (const [text, expected] of cases) {
      const r = await h.postJson("/UserCheck/TPAPI", text);
      assert.equal(r.status, 400, text);
      const { status } = (r.json as { response: { status: { code: number; message: string } } })
        .response;
      assert.equal(status.code, 1008);
      assert.match(status.message, expected, text);
    }
    const huge = JSON.stringify({ request: [{ padding: "x".repeat(17 * 1024 * 1024) }] });
    const tooBig = await h.postJson("/UserCheck/TPAPI", huge);
    assert.equal(tooBig.status, 413);
    assert.match(tooBig.text, /outside streamed strings over 16777216 bytes/);
  });
});

Deno.test("file_enc_data twice in one object, or not a string, answers 1008", async () => {
  await withEmulator({}, async (h) => {
    const head = `"protocol_version":"1.1","api_key":"k","request_name":"UploadFile"`;
    const text = `{"request":[{${head},"file_enc_data":"QUJD","file_enc_data":"REVG",` +
      `"te_options":{}},{${head},"file_enc_data":42,"te_options":{}}]}`;
    const r = await h.postJson("/UserCheck/TPAPI", text);
    assert.equal(r.status, 200);
    const items = parseTpapiResponseBody(r.json);
    assert.deepEqual(items.map((i) => i.te?.status.code), [1008, 1008]);
    assert.match(items[0].te?.status.message ?? "", /file_enc_data is given twice/);
    assert.match(
      items[1].te?.status.message ?? "",
      /request\[1\]\.file_enc_data: expected a string/,
    );
  });
});

Deno.test("a 3 MiB document is scanned whole and cleaned whole", async () => {
  await withEmulator({}, async (h) => {
    const content = new Uint8Array(3 * 1024 * 1024 + 5).fill(0x61);
    const tail = ENCODER.encode(marked("ACTIVE-CONTENT", "tail"));
    content.set(tail, content.length - tail.length);
    const r = await h.postJson("/UserCheck/TPAPI", {
      request: {
        protocol_version: "1.1",
        api_key: "k",
        request_name: "UploadFile",
        file_orig_name: "big.docm",
        file_enc_data: content.toBase64(),
        scrub_options: { scrub_method: 1 },
        te_options: { features: ["te"] },
      },
    });
    const [item] = parseTpapiResponseBody(r.json);
    assert.equal(item.te?.sha1, hex("sha1", content));
    assert.equal(item.scrub?.scrub_result, 0);
    assert.equal(item.scrub?.output_file_name, "big.cleaned.docm");
    const cleaned = Uint8Array.fromBase64(item.scrub!.file_enc_data!);
    const text = new TextDecoder().decode(cleaned);
    assert.ok(!text.includes("TE-EMULATOR-ACTIVE-CONTENT"));
    assert.ok(text.endsWith("[removed by te-scan emulator]\nend\n"));
    assert.equal(cleaned.length, content.length - 26 + 29, "only the marker changed");
  });
});
