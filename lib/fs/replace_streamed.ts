/**
 * Replaces a file with text that is made piece by piece, such as a page
 * listing every malicious file of a run over millions: `replaceFile` (in
 * move.ts) needs the whole text in memory, this writes the pieces to a
 * temporary file as they come, in batches, then renames it into place. A
 * reader sees the old file or the new one, whole, never a part.
 *
 * @example Write a page from rows as they come
 * ```ts
 * import { replaceFileStreamed } from "./replace_streamed.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * async function* rows() {
 *   for (let i = 0; i < 3; i++) yield `row ${i}\n`;
 * }
 * await replaceFileStreamed(`${dir}/page.txt`, rows);
 * assert.equal(await Deno.readTextFile(`${dir}/page.txt`), "row 0\nrow 1\nrow 2\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { dirname, join } from "node:path";
import { reasonOf } from "../util/reason.ts";
import { errorCode } from "../util/error_code.ts";
import { PARTIAL_PREFIX, removeQuietly } from "./move.ts";

/** How much text is gathered before it is written. */
const BATCH_CHARS = 1 << 16;

async function* encodedInBatches(pieces: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let batch: string[] = [];
  let length = 0;
  for await (const piece of pieces) {
    batch.push(piece);
    length += piece.length;
    if (length < BATCH_CHARS) continue;
    yield encoder.encode(batch.join(""));
    batch = [];
    length = 0;
  }
  if (batch.length) yield encoder.encode(batch.join(""));
}

/**
 * Writes the pieces `make()` yields to a temporary file (in `tempDir`, else
 * beside `dest`), then renames it over `dest`. `make` is called again if
 * the temporary folder is on another filesystem, so it must start afresh
 * each time. Throws "cannot write DEST: reason"; the temporary file is
 * removed on any failure.
 */
export async function replaceFileStreamed(
  dest: string,
  make: () => AsyncIterable<string>,
  options: { tempDir?: string } = {},
): Promise<void> {
  const temp = join(options.tempDir ?? dirname(dest), `${PARTIAL_PREFIX}${crypto.randomUUID()}`);
  try {
    await Deno.writeFile(temp, ReadableStream.from(encodedInBatches(make())), { createNew: true });
    await Deno.rename(temp, dest);
  } catch (error) {
    await removeQuietly(temp);
    if (options.tempDir !== undefined && errorCode(error) === "EXDEV") {
      return await replaceFileStreamed(dest, make);
    }
    throw new Error(`cannot write ${dest}: ${reasonOf(error)}`);
  }
}
