import assert from "node:assert/strict";
import { readTpapiUploadAnswer } from "../../lib/transport/tpapi_answer.ts";
import { ProtocolError } from "../../lib/transport/validate.ts";
import { tempDir } from "../helpers.ts";

const encoder = new TextEncoder();

function answerWith(scrub: string, asArray = true): string {
  const item = `{"protocol_version":"1.1","te":{"status":{"code":1002}},"scrub":${scrub}}`;
  return `{"response":${asArray ? `[${item}]` : item}}`;
}

/** The text cut into pieces of `size` bytes, as a network would deliver it. */
function pieces(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = encoder.encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return ReadableStream.from(out);
}

function patterned(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 10)) & 0xff;
  return bytes;
}

Deno.test("the cleaned copy is decoded to a file, however the answer is cut, escapes included", async () => {
  await using dir = await tempDir();
  // Over one write stage (1 MiB), and with "/" escaped as PHP's json_encode writes it.
  const data = patterned((1 << 20) + 12_345);
  const escaped = data.toBase64().replaceAll("/", "\\/");
  for (const [cut, asArray] of [[4093, true], [65_536, false], [1 << 20, true]] as const) {
    const text = answerWith(`{"scrub_result":0,"file_enc_data":"${escaped}"}`, asArray);
    const { items, cleanedPath } = await readTpapiUploadAnswer(pieces(text, cut), {
      dir: dir.path,
      maxBytes: 1 << 30,
    });
    assert.equal(items[0].scrub?.file_enc_data, "");
    assert.deepEqual(await Deno.readFile(cleanedPath!), data, `cut ${cut}`);
    await Deno.remove(cleanedPath!);
  }
});

Deno.test("an empty or absent cleaned copy makes no file", async () => {
  await using dir = await tempDir();
  for (const scrub of ['{"scrub_result":4,"file_enc_data":""}', '{"scrub_result":3}']) {
    const read = await readTpapiUploadAnswer(pieces(answerWith(scrub), 5), {
      dir: dir.path,
      maxBytes: 100,
    });
    assert.equal(read.cleanedPath, undefined);
  }
  assert.deepEqual(await Array.fromAsync(Deno.readDir(dir.path)), []);
});

Deno.test("a refused answer leaves no temporary file behind", async () => {
  await using dir = await tempDir();
  const big = btoa("x".repeat(3000));
  const refused: [string, number, RegExp][] = [
    [answerWith(`{"scrub_result":0,"file_enc_data":"${big}*"}`), 1 << 20, /not base64/],
    [answerWith(`{"scrub_result":0,"file_enc_data":"${big}"}`), 1000, /larger than 1000 bytes/],
    [
      `{"response":[{"scrub":{"scrub_result":0,"file_enc_data":"${big}"}},` +
      `{"scrub":{"scrub_result":0,"file_enc_data":"${big}"}}]}`,
      1 << 20,
      /more than one scrub\.file_enc_data/,
    ],
    // Cut off mid-copy: the connection dropped.
    [
      answerWith(`{"scrub_result":0,"file_enc_data":"${big}"}`).slice(0, 2500),
      1 << 20,
      /ends early/,
    ],
  ];
  for (const [text, maxBytes, pattern] of refused) {
    await assert.rejects(
      readTpapiUploadAnswer(pieces(text, 1000), { dir: dir.path, maxBytes }),
      (error: unknown) => {
        assert.ok(error instanceof ProtocolError, String(error));
        assert.match(error.message, pattern);
        return true;
      },
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir.path)), [], String(pattern));
  }
});
