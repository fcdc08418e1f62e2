/**
 * Reading a gateway's UploadFile answer as a stream. With Threat Extraction
 * the answer carries the cleaned copy inline, as base64 in
 * `response[i].scrub.file_enc_data`: for a large document that is a string
 * too big to hold (or for V8 to make). So the JSON is parsed incrementally,
 * that one string is base64-decoded as it arrives straight into a temporary
 * file beside where the copy will be published, and only the rest of the
 * answer is built as values. Memory does not grow with the cleaned copy.
 *
 * @module
 */

import { join } from "node:path";
import { PARTIAL_PREFIX } from "../fs/move.ts";
import { Base64Decoder, Base64Error } from "./base64_stream.ts";
import { envelopeEntry, type JsonPath, JsonStreamParser } from "./json_stream.ts";
import {
  oddScrubFields,
  parseTpapiResponseBody,
  type ScrubResult,
  scrubResultInfo,
  type TpapiResponseItem,
} from "./tpapi_types.ts";
import type { ScrubOutcome } from "./transport.ts";
import { ProtocolError } from "./validate.ts";

/** JSON an answer may hold outside the cleaned copy: a few KiB in practice. */
const ANSWER_JSON_CAP = 16 * 1024 * 1024;

const WHAT = "gateway upload answer";

/** Where a cleaned copy goes while it arrives, and how large it may be. */
export interface CleanedCopyTarget {
  /**
   * Folder of the temporary file (the `--clean` folder, so publishing it is a
   * rename); without one the copy is decoded, checked and dropped.
   */
  dir?: string;
  /** Largest cleaned copy accepted, in bytes. */
  maxBytes: number;
}

/** A parsed upload answer, the cleaned copy (if it had one) in a temporary file. */
export interface ReadUploadAnswer {
  items: TpapiResponseItem[];
  /** The decoded `scrub.file_enc_data`, when it was not empty and a folder was given. */
  cleanedPath?: string;
}

/** Bytes gathered before each write of the cleaned copy: few large writes, not many small. */
const STAGE_BYTES = 1 << 20;

/** Decodes base64 text into a temporary file created on the first byte. */
class CleanedCopyWriter {
  readonly #target: CleanedCopyTarget;
  #queue: Uint8Array[] = [];
  readonly #decoder = new Base64Decoder((bytes) => this.#queue.push(bytes));
  #bytes = 0;
  #stage?: Uint8Array;
  #staged = 0;
  #path?: string;
  #file?: Deno.FsFile;

  constructor(target: CleanedCopyTarget) {
    this.#target = target;
  }

  /** Decodes a piece of text (synchronous: the parser's hook); the bytes wait for `flush`. */
  write(text: string): void {
    this.#base64(() => this.#decoder.write(text));
  }

  #base64(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (!(error instanceof Base64Error)) throw error;
      throw new ProtocolError(`${WHAT}: scrub.file_enc_data is not base64 (${error.message})`);
    }
  }

  /** Stages what was decoded so far, writing each full stage (and, at the end, the rest). */
  async flush(end = false): Promise<void> {
    const chunks = this.#queue;
    this.#queue = [];
    const { dir, maxBytes } = this.#target;
    for (const chunk of chunks) {
      this.#bytes += chunk.length;
      if (this.#bytes > maxBytes) {
        throw new ProtocolError(`${WHAT}: cleaned copy larger than ${maxBytes} bytes`);
      }
      if (dir === undefined) continue;
      const stage = this.#stage ??= new Uint8Array(STAGE_BYTES);
      for (let offset = 0; offset < chunk.length;) {
        const n = Math.min(chunk.length - offset, STAGE_BYTES - this.#staged);
        stage.set(chunk.subarray(offset, offset + n), this.#staged);
        this.#staged += n;
        offset += n;
        if (this.#staged === STAGE_BYTES) await this.#writeStage(dir);
      }
    }
    if (end && this.#staged && dir !== undefined) await this.#writeStage(dir);
  }

  async #writeStage(dir: string): Promise<void> {
    if (!this.#file) {
      this.#path = join(dir, `${PARTIAL_PREFIX}${crypto.randomUUID()}`);
      this.#file = await Deno.open(this.#path, { write: true, createNew: true });
    }
    const data = this.#stage!.subarray(0, this.#staged);
    for (let done = 0; done < data.length;) done += await this.#file.write(data.subarray(done));
    this.#staged = 0;
  }

  /** Ends the text; returns the synced temporary file, if any byte came. */
  async end(): Promise<string | undefined> {
    this.#base64(() => this.#decoder.end());
    await this.flush(true);
    if (!this.#file) return undefined;
    await this.#file.sync();
    this.#file.close();
    this.#file = undefined;
    return this.#path;
  }

  /** Removes the temporary file (the answer was refused). */
  async discard(): Promise<void> {
    try {
      this.#file?.close();
    } catch { /* already closed */ }
    if (this.#path) await Deno.remove(this.#path).catch(() => {});
  }
}

function isCleanedCopy(path: JsonPath): boolean {
  return path.at(-1) === "file_enc_data" && path.at(-2) === "scrub" &&
    envelopeEntry(path, "response", 2) !== undefined;
}

/**
 * Reads an UploadFile answer: validates it like any TPAPI answer, and
 * decodes the (one) `scrub.file_enc_data` into a temporary file in
 * `target.dir`. On any failure the temporary file is removed.
 *
 * @example An answer with a cleaned copy
 * ```ts
 * import { readTpapiUploadAnswer } from "./tpapi_answer.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const answer = JSON.stringify({
 *   response: [{ scrub: { scrub_result: 0, file_enc_data: btoa("clean"), message: "OK" } }],
 * });
 * const { items, cleanedPath } = await readTpapiUploadAnswer(
 *   ReadableStream.from([new TextEncoder().encode(answer)]),
 *   { dir, maxBytes: 1024 },
 * );
 * assert.equal(items[0].scrub?.file_enc_data, "");
 * assert.equal(await Deno.readTextFile(cleanedPath!), "clean");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readTpapiUploadAnswer(
  body: AsyncIterable<Uint8Array>,
  target: CleanedCopyTarget,
): Promise<ReadUploadAnswer> {
  const copy = new CleanedCopyWriter(target);
  let copies = 0;
  const parser = new JsonStreamParser(WHAT, {
    streamString(path) {
      if (!isCleanedCopy(path)) return undefined;
      if (++copies > 1) throw new ProtocolError(`${WHAT}: more than one scrub.file_enc_data`);
      return (text) => copy.write(text);
    },
  }, { maxHeldBytes: ANSWER_JSON_CAP });
  try {
    for await (const chunk of body) {
      parser.write(chunk);
      await copy.flush();
    }
    const root = parser.end();
    const items = parseTpapiResponseBody(root);
    const cleanedPath = await copy.end();
    return cleanedPath === undefined ? { items } : { items, cleanedPath };
  } catch (error) {
    await copy.discard();
    throw error;
  }
}

/**
 * A `scrub` section as the pipeline records it: the guide's name for the
 * code (or `unknown code N`), the gateway's activity text, and the cleaned
 * copy's temporary file, kept only for result 0 (OK).
 *
 * @example Nothing to clean, and a code the guide does not name
 * ```ts
 * import { scrubOutcome } from "./tpapi_answer.ts";
 * import assert from "node:assert/strict";
 *
 * const skipped = scrubOutcome({
 *   scrub_result: 4,
 *   message: "Skipped",
 *   scrub_activity: "The file doesn't include cleanable parts",
 *   file_enc_data: "",
 * });
 * assert.equal(skipped.name, "Skipped");
 * assert.equal(skipped.message, "The file doesn't include cleanable parts");
 * assert.equal(skipped.cleanedPath, undefined);
 * assert.equal("file_enc_data" in skipped.raw, false);
 * assert.equal(scrubOutcome({ scrub_result: 12 }).name, "unknown code 12");
 * ```
 */
export function scrubOutcome(scrub: ScrubResult, cleanedPath?: string): ScrubOutcome {
  const { file_enc_data: _data, ...raw } = scrub;
  const name = scrubResultInfo(scrub.scrub_result).message;
  const outcome: ScrubOutcome = { code: scrub.scrub_result, name, raw: { ...raw } };
  const odd = oddScrubFields(scrub);
  if (odd.length) outcome.oddFields = odd;
  const text = (value: unknown) => typeof value === "string" ? value : undefined;
  const message = text(scrub.message);
  const activity = text(scrub.scrub_activity) ||
    (message !== name ? message : undefined);
  if (activity) outcome.message = activity;
  const outputName = text(scrub.output_file_name);
  if (outputName) outcome.outputName = outputName;
  if (scrub.scrub_result === 0 && cleanedPath) outcome.cleanedPath = cleanedPath;
  return outcome;
}
