import assert from "node:assert/strict";
import { join } from "node:path";
import { concatBytes } from "../../lib/util/bytes.ts";
import { base64JsonBody, base64Length, fileChunks } from "../../lib/transport/upload_body.ts";
import { tempDir } from "../helpers.ts";

const HEAD = '{"request":[{"request_name":"UploadFile","file_enc_data":"';
const TAIL = '"}]}';

/** Bytes no two positions of which repeat with a period of 3: alignment bugs show. */
function patterned(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 8) * 13) & 0xff;
  return bytes;
}

async function bodyOf(path: string, bytes: Uint8Array, chunkBytes?: number) {
  const body = base64JsonBody(HEAD, TAIL, { path, size: bytes.length, name: "f" }, chunkBytes);
  const sent = concatBytes(await Array.fromAsync(body.chunks()));
  return { body, sent };
}

async function assertExact(path: string, bytes: Uint8Array, chunkBytes?: number): Promise<void> {
  await Deno.writeFile(path, bytes);
  const { body, sent } = await bodyOf(path, bytes, chunkBytes);
  const what = `size ${bytes.length}, chunk ${chunkBytes ?? "default"}`;
  assert.equal(body.length, sent.length, `${what}: declared length`);
  assert.equal(body.length, HEAD.length + base64Length(bytes.length) + TAIL.length, what);
  const parsed = JSON.parse(new TextDecoder().decode(sent));
  assert.deepEqual(Uint8Array.fromBase64(parsed.request[0].file_enc_data), bytes, what);
}

Deno.test("base64 JSON body: exact length and content for sizes 0 to 10", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "f.bin");
  for (let size = 0; size <= 10; size++) {
    // Chunks of 1, 2, 3, 4 and 7 bytes: short groups carried across every kind of boundary.
    for (const chunk of [1, 2, 3, 4, 7, undefined]) {
      await assertExact(path, patterned(size), chunk);
    }
  }
});

Deno.test("base64 JSON body: exact around the default read size (1 MiB less one byte)", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "f.bin");
  const read = 3 * 349_525;
  for (const size of [read - 1, read, read + 1, read + 2, 2 * read - 1, 2 * read + 1, 1 << 20]) {
    await assertExact(path, patterned(size));
  }
});

Deno.test("base64 JSON body: chunks of a multiple of 3 never carry; others do, same result", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "f.bin");
  const bytes = patterned(100_003);
  await Deno.writeFile(path, bytes);
  const aligned = await bodyOf(path, bytes, 3 * 1000);
  const ragged = await bodyOf(path, bytes, 1000);
  assert.deepEqual(aligned.sent, ragged.sent);
});

Deno.test("base64 JSON body: a file that changed size since it was hashed is refused", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "f.bin");
  await Deno.writeFile(path, patterned(12));
  for (const size of [11, 13]) {
    const body = base64JsonBody(HEAD, TAIL, { path, size, name: "f" });
    await assert.rejects(Array.fromAsync(body.chunks()), /changed while being scanned/);
  }
});

Deno.test("fileChunks: every chunk is a copy that later reads do not overwrite", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "f.bin");
  const bytes = patterned(10_000);
  await Deno.writeFile(path, bytes);
  const chunks = await Array.fromAsync(fileChunks({ path, size: bytes.length, name: "f" }, 4096));
  assert.deepEqual(concatBytes(chunks), bytes);
});
