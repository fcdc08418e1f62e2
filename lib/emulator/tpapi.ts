/**
 * The Security Gateway's `POST /UserCheck/TPAPI` (sk137032, kept in
 * `shared/seeds/tpapi-gateway-guide.txt`): QueryFile and UploadFile request
 * objects, one or a batch, the file as base64 inside the JSON, Threat
 * Extraction through `scrub_options`. The answer mirrors the request: an
 * object for an object, an array of the same length and order for an array;
 * each item is `{protocol_version, src_ip, te: <cloud-format answer>}`, plus
 * `scrub` for an upload that asked for Threat Extraction.
 *
 * The body is read as a stream (`tpapi_body.ts`): an upload of any size
 * costs constant memory, and `Content-Type` is not looked at.
 *
 * Each request object is answered on its own, always with HTTP 200 once the
 * body is valid JSON of the right shape:
 * - a missing or wrong `api_key` (when the emulator has `--api-key`) is
 *   answered `te.status` 1010 FORBIDDEN with the message {@link WRONG_KEY}
 *   (the inner `te.te.status` too), checked before anything else in the
 *   object; no key is ever echoed. Real gateways' exact form is unknown;
 *   this is the one documented for te-scan's clients to recognise;
 * - a malformed object (unknown `request_name`, no digest, `scrub_method` 0
 *   without `profile_name`, neither `te_options` nor `scrub_options`,
 *   `file_enc_data` that is not base64, …) is answered 1008 BAD_REQUEST with
 *   a message naming the field.
 *
 * @example Query a hash the gateway has never seen
 * ```ts
 * import { handleTpapi } from "./tpapi.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = newContext(resolveOptions({}));
 * const res = await handleTpapi(
 *   ctx,
 *   new Request("https://x/UserCheck/TPAPI", {
 *     method: "POST",
 *     body: JSON.stringify({
 *       request: [{
 *         protocol_version: "1.1",
 *         api_key: "k",
 *         request_name: "QueryFile",
 *         md5: "0".repeat(32),
 *       }],
 *     }),
 *   }),
 * );
 * assert.equal((await res.json()).response[0].te.status.code, 1004);
 * ```
 * @module
 */

import { parseRequestItem, type RequestItem } from "../transport/protocol.ts";
import { Code } from "../transport/status.ts";
import {
  parseTpapiRequest,
  type ScrubResult,
  TPAPI_PROTOCOL_VERSION,
  type TpapiRequest,
  type TpapiResponseItem,
} from "../transport/tpapi_types.ts";
import { BodyTooLarge, expectObject, ProtocolError } from "../transport/validate.ts";
import { buildAnswer, errorAnswer } from "./answer.ts";
import { keysEqual } from "./auth.ts";
import { badRequest } from "./cloud.ts";
import type { ContentFacts } from "./content_scan.ts";
import type { EmulatorContext } from "./context.ts";
import type { Fault } from "./faults.ts";
import { jsonResponse } from "./http.ts";
import { acceptUpload, verdictOf } from "./intake.ts";
import { scrubFile } from "./scrub.ts";
import { readTpapiBody, type TpapiObject } from "./tpapi_body.ts";

/**
 * Most JSON a TPAPI body may hold outside `file_enc_data` strings (those
 * are streamed and not counted): a 500-object QueryFile batch is ~100 KiB.
 *
 * @example The largest TPAPI body outside file data
 * ```ts
 * import { TPAPI_JSON_CAP } from "./tpapi.ts";
 * import assert from "node:assert/strict";
 * assert.equal(TPAPI_JSON_CAP, 16777216);
 * ```
 */
export const TPAPI_JSON_CAP = 16 * 1024 * 1024;

/**
 * The message of the 1010 FORBIDDEN answer to a request object whose
 * `api_key` is missing or wrong. It names the field, never a key.
 *
 * @example The message of a wrong key
 * ```ts
 * import { WRONG_KEY } from "./tpapi.ts";
 * import assert from "node:assert/strict";
 * assert.equal(WRONG_KEY.includes("api_key"), true);
 * ```
 */
export const WRONG_KEY = "The api_key is missing or is not this gateway's API key.";

/**
 * The address the gateway reports as `src_ip`: the one it listens on, or
 * loopback when it listens on every address.
 *
 * @example A wildcard address is reported as loopback
 * ```ts
 * import { sourceIp } from "./tpapi.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sourceIp("0.0.0.0"), "127.0.0.1");
 * assert.equal(sourceIp("10.1.1.5"), "10.1.1.5");
 * ```
 */
export function sourceIp(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "localhost") return "127.0.0.1";
  return host;
}

/** A request object checked as it was read, waiting for the whole body. */
type Prepared =
  | { kind: "refused"; item: TpapiResponseItem; reason: "auth" | "bad" }
  | { kind: "query"; base: TpapiResponseItem; request: RequestItem }
  | {
    kind: "upload";
    base: TpapiResponseItem;
    te?: RequestItem;
    facts: ContentFacts;
    fileName: string;
    scrub?: ScrubResult;
  };

function apiKeyOf(raw: unknown): string {
  if (typeof raw !== "object" || raw === null) return "";
  const key = (raw as Record<string, unknown>).api_key;
  return typeof key === "string" ? key : "";
}

/** Validates one object; the cloud-format part sits at the top of a QueryFile, in te_options of an UploadFile. */
function parseObject(object: TpapiObject): { parsed: TpapiRequest; te?: RequestItem } {
  const { path, value, file } = object;
  const parsed = parseTpapiRequest(value, path);
  if (parsed.protocol_version !== TPAPI_PROTOCOL_VERSION) {
    const got = JSON.stringify(parsed.protocol_version);
    throw new ProtocolError(
      `${path}.protocol_version: expected "${TPAPI_PROTOCOL_VERSION}", got ${got}`,
    );
  }
  const obj = expectObject(value, path);
  if (parsed.request_name === "QueryFile") return { parsed, te: parseRequestItem(obj, path) };
  if (!file) throw new ProtocolError(`${path}.file_enc_data: missing`);
  if (file.error) {
    throw new ProtocolError(`${path}.file_enc_data: not valid base64 (${file.error})`);
  }
  if (!obj.te_options) return { parsed };
  return { parsed, te: parseRequestItem(obj.te_options, `${path}.te_options`) };
}

/** One TPAPI request: its objects are prepared as they are read, answered at the end. */
class TpapiRun {
  #ctx: EmulatorContext;
  #forcedCode: number | undefined;
  #base: TpapiResponseItem;
  #scrubFault: Fault | undefined | null = null;
  queried = false;

  constructor(ctx: EmulatorContext, forcedCode: number | undefined) {
    this.#ctx = ctx;
    this.#forcedCode = forcedCode;
    this.#base = {
      protocol_version: TPAPI_PROTOCOL_VERSION,
      src_ip: sourceIp(ctx.options.host),
    };
  }

  /** One scrub fault per request, taken when the first object asks for Threat Extraction. */
  #scrubCode(): number | undefined {
    if (this.#scrubFault === null) {
      this.#scrubFault = this.#ctx.faults.takeScrub();
      if (this.#scrubFault) this.#ctx.stats.faults_injected++;
    }
    return this.#scrubFault?.code;
  }

  prepare(object: TpapiObject): Prepared {
    const { options } = this.#ctx;
    const base = this.#base;
    // The key first: an object without the right one learns nothing else.
    if (options.apiKey !== undefined && !keysEqual(apiKeyOf(object.value), options.apiKey)) {
      const item = { ...base, te: errorAnswer({}, Code.FORBIDDEN, WRONG_KEY) };
      return { kind: "refused", item, reason: "auth" };
    }
    let checked;
    try {
      checked = parseObject(object);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      const item = { ...base, te: errorAnswer({}, Code.BAD_REQUEST, error.message) };
      return { kind: "refused", item, reason: "bad" };
    }
    const { parsed, te } = checked;
    if (parsed.request_name === "QueryFile") return { kind: "query", base, request: te! };
    const { facts, bytes } = object.file!;
    const fileName = te?.file_name || parsed.file_orig_name || "";
    const prepared: Prepared = { kind: "upload", base, facts, fileName };
    if (te) prepared.te = te;
    if (parsed.scrub_options) {
      prepared.scrub = scrubFile({
        facts,
        bytes,
        fileName,
        options: parsed.scrub_options,
        maxBytes: options.scrubMaxBytes,
        forcedCode: this.#scrubCode(),
        originalUrl: `https://${base.src_ip}/UserCheck/file/${facts.sha1}`,
        malicious: verdictOf(facts) === "malicious",
      });
    }
    return prepared;
  }

  finish(prepared: Prepared): TpapiResponseItem {
    const ctx = this.#ctx;
    const { stats, options, samples } = ctx;
    const forced = this.#forcedCode;
    if (prepared.kind === "refused") {
      if (prepared.reason === "auth") stats.auth_failures++;
      else stats.bad_requests++;
      return prepared.item;
    }
    if (prepared.kind === "query") {
      this.queried = true;
      stats.tpapi_query_items++;
      const { request } = prepared;
      const te = forced !== undefined ? errorAnswer(request, forced) : buildAnswer({
        request,
        sample: samples.find(request),
        view: "query",
        now: ctx.now(),
        settings: options,
        store: samples,
      });
      return { ...prepared.base, te };
    }
    const { facts, fileName, te } = prepared;
    stats.tpapi_uploads++;
    stats.tpapi_upload_bytes += facts.size;
    const out: TpapiResponseItem = { ...prepared.base };
    if (prepared.scrub) {
      stats.scrubs++;
      out.scrub = prepared.scrub;
    }
    if (te) {
      out.te = forced !== undefined
        ? errorAnswer(te, forced, undefined, { ...facts, fileName })
        : acceptUpload(ctx, facts, te, fileName);
      if (out.te.status.code === Code.BAD_REQUEST) stats.bad_requests++;
    }
    return out;
  }
}

/**
 * `POST /UserCheck/TPAPI`. `forcedCode` (a fault) sets every object's `te`
 * statuses. Samples are registered only once the whole body has been read:
 * a body cut short changes nothing.
 *
 * @example A batch is answered in order
 * ```ts
 * import { handleTpapi } from "./tpapi.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = newContext(resolveOptions({}));
 * const query = (md5: string) => ({
 *   protocol_version: "1.1",
 *   api_key: "k",
 *   request_name: "QueryFile",
 *   md5,
 * });
 * const res = await handleTpapi(
 *   ctx,
 *   new Request("https://x/UserCheck/TPAPI", {
 *     method: "POST",
 *     body: JSON.stringify({ request: [query("0".repeat(32)), query("")] }),
 *   }),
 * );
 * const codes = (await res.json()).response.map((r: { te: { status: { code: number } } }) =>
 *   r.te.status.code
 * );
 * assert.deepEqual(codes, [1004, 1008]);
 * ```
 */
export async function handleTpapi(
  ctx: EmulatorContext,
  req: Request,
  forcedCode?: number,
): Promise<Response> {
  if (!req.body) return badRequest(ctx, new ProtocolError("TPAPI request: no body"));
  const run = new TpapiRun(ctx, forcedCode);
  const prepared: Prepared[] = [];
  let wasArray: boolean;
  try {
    const limits = { keepBytes: ctx.options.scrubMaxBytes, maxJsonBytes: TPAPI_JSON_CAP };
    ({ wasArray } = await readTpapiBody(req.body, limits, (o) => prepared.push(run.prepare(o))));
  } catch (error) {
    if (error instanceof ProtocolError || error instanceof BodyTooLarge) {
      return badRequest(ctx, error);
    }
    const reason = error instanceof Error ? error.message : String(error);
    return badRequest(ctx, new Error(`Cannot read the TPAPI request: ${reason}`));
  }
  ctx.stats.tpapi_requests++;
  ctx.stats.tpapi_items += prepared.length;
  const answers = prepared.map((p) => run.finish(p));
  if (run.queried) ctx.stats.tpapi_queries++;
  return jsonResponse({ response: wasArray ? answers : answers[0] });
}
