/**
 * The Security Gateway's `POST /UserCheck/TPAPI`: QueryFile and UploadFile
 * request objects, the file as base64 inside the JSON, Threat Extraction
 * through `scrub_options`. Each request object is answered on its own: a bad
 * one gets a 1008 (or 1010 for a wrong `api_key`) in its `te.status` while
 * the others are served.
 *
 * @example
 * ```ts
 * import { handleTpapi } from "./tpapi.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * const ctx = newContext(resolveOptions({}));
 * const res = await handleTpapi(ctx, new Request("https://x/UserCheck/TPAPI", {
 *   method: "POST",
 *   body: JSON.stringify({ request: [{
 *     protocol_version: "1.1", api_key: "k", request_name: "QueryFile", md5: "0".repeat(32),
 *   }] }),
 * }));
 * (await res.json()).response[0].te.status.code; // 1004
 * ```
 * @module
 */

import { parseRequestItem, type RequestItem } from "../transport/cloud_types.ts";
import { Code } from "../transport/status.ts";
import {
  parseTpapiRequest,
  TPAPI_PROTOCOL_VERSION,
  type TpapiResponseItem,
} from "../transport/tpapi_types.ts";
import { expectObject, ProtocolError } from "../transport/validate.ts";
import { buildAnswer, errorAnswer } from "./answer.ts";
import { keysEqual } from "./auth.ts";
import { badRequest } from "./cloud.ts";
import { scanBytes } from "./content_scan.ts";
import type { EmulatorContext } from "./context.ts";
import { BodyTooLarge, jsonResponse, parseJsonBody, readCapped } from "./http.ts";
import { acceptUpload } from "./intake.ts";
import { scrubFile } from "./scrub.ts";

/**
 * Largest TPAPI body accepted: the whole file travels in it as base64.
 *
 * @example
 * ```ts
 * import { TPAPI_BODY_CAP } from "./tpapi.ts";
 * TPAPI_BODY_CAP; // 536870912
 * ```
 */
export const TPAPI_BODY_CAP = 512 * 1024 * 1024;

/**
 * The address the gateway reports as `src_ip`: the one it listens on, or
 * loopback when it listens on every address.
 *
 * @example
 * ```ts
 * import { sourceIp } from "./tpapi.ts";
 * sourceIp("0.0.0.0"); // "127.0.0.1"
 * sourceIp("10.1.1.5"); // "10.1.1.5"
 * ```
 */
export function sourceIp(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "localhost") return "127.0.0.1";
  return host;
}

interface ItemContext {
  ctx: EmulatorContext;
  forcedCode?: number;
  scrubCode?: number;
}

/**
 * The message of the 1010 FORBIDDEN answer to a request object whose
 * `api_key` is missing or wrong. It names the field, never a key.
 *
 * @example
 * ```ts
 * import { WRONG_KEY } from "./tpapi.ts";
 * WRONG_KEY.includes("api_key"); // true
 * ```
 */
export const WRONG_KEY = "The api_key is missing or is not this gateway's API key.";

function apiKeyOf(raw: unknown): string {
  if (typeof raw !== "object" || raw === null) return "";
  const key = (raw as Record<string, unknown>).api_key;
  return typeof key === "string" ? key : "";
}

function fail(base: TpapiResponseItem, request: RequestItem, code: number, message: string) {
  return { ...base, te: errorAnswer(request, code, message) };
}

function answerItem(raw: unknown, path: string, input: ItemContext): TpapiResponseItem {
  const { ctx, forcedCode } = input;
  const { options, samples, stats } = ctx;
  const base: TpapiResponseItem = {
    protocol_version: TPAPI_PROTOCOL_VERSION,
    src_ip: sourceIp(options.host),
  };
  // The key is checked first: a request without it learns nothing else.
  if (options.apiKey !== undefined && !keysEqual(apiKeyOf(raw), options.apiKey)) {
    stats.auth_failures++;
    return fail(base, {}, Code.FORBIDDEN, WRONG_KEY);
  }
  let parsed;
  let te: RequestItem | undefined;
  try {
    parsed = parseTpapiRequest(raw, path);
    if (parsed.protocol_version !== TPAPI_PROTOCOL_VERSION) {
      throw new ProtocolError(
        `${path}.protocol_version: expected "${TPAPI_PROTOCOL_VERSION}", got ${
          JSON.stringify(parsed.protocol_version)
        }`,
      );
    }
    const obj = expectObject(raw, path);
    // The cloud-format fields sit at the top of a QueryFile and under
    // te_options of an UploadFile.
    if (parsed.request_name === "QueryFile") te = parseRequestItem(obj, path);
    else if (obj.te_options) te = parseRequestItem(obj.te_options, `${path}.te_options`);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    stats.bad_requests++;
    return fail(base, {}, Code.BAD_REQUEST, error.message);
  }
  if (parsed.request_name === "QueryFile") {
    const request = te!;
    const answer = forcedCode !== undefined ? errorAnswer(request, forcedCode) : buildAnswer({
      request,
      sample: samples.find(request),
      view: "query",
      now: ctx.now(),
      settings: options,
      store: samples,
    });
    return { ...base, te: answer };
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(parsed.file_enc_data);
  } catch {
    stats.bad_requests++;
    return fail(base, te ?? {}, Code.BAD_REQUEST, `${path}.file_enc_data: not valid base64`);
  }
  const facts = scanBytes(bytes);
  const fileName = te?.file_name || parsed.file_orig_name || "";
  const out: TpapiResponseItem = { ...base };
  if (parsed.scrub_options) {
    out.scrub = scrubFile({
      bytes,
      fileName,
      options: parsed.scrub_options,
      forcedCode: input.scrubCode,
      originalUrl: `https://${base.src_ip}/UserCheck/file/${facts.sha1}`,
      malicious: facts.markers.has("eicar") || facts.markers.has("malicious"),
    });
  }
  if (te) {
    out.te = forcedCode !== undefined
      ? errorAnswer(te, forcedCode, undefined, { ...facts, fileName })
      : acceptUpload(ctx, facts, te, fileName);
  }
  return out;
}

/**
 * `POST /UserCheck/TPAPI`: answers an object for an object request and an
 * array of the same length for an array. `forcedCode` (a fault) sets every
 * object's `te` statuses.
 *
 * @example
 * ```ts
 * import { handleTpapi } from "./tpapi.ts";
 * import type { EmulatorContext } from "./context.ts";
 * declare const ctx: EmulatorContext;
 * declare const req: Request;
 * const res = await handleTpapi(ctx, req);
 * ```
 */
export async function handleTpapi(
  ctx: EmulatorContext,
  req: Request,
  forcedCode?: number,
): Promise<Response> {
  let list: unknown[];
  let wasArray: boolean;
  try {
    const body = expectObject(
      parseJsonBody(await readCapped(req, TPAPI_BODY_CAP), "TPAPI request"),
      "TPAPI request",
    );
    const request = body.request;
    if (typeof request !== "object" || request === null) {
      throw new ProtocolError(`TPAPI request: "request" must be an object or an array`);
    }
    wasArray = Array.isArray(request);
    list = wasArray ? request as unknown[] : [request];
  } catch (error) {
    if (error instanceof ProtocolError || error instanceof BodyTooLarge) {
      return badRequest(ctx, error);
    }
    throw error;
  }
  ctx.stats.tpapi_requests++;
  ctx.stats.tpapi_items += list.length;
  const wantsScrub = list.some((raw) =>
    typeof raw === "object" && raw !== null && "scrub_options" in raw
  );
  const scrubFault = wantsScrub ? ctx.faults.takeScrub() : undefined;
  if (scrubFault) ctx.stats.faults_injected++;
  const answers = list.map((raw, i) =>
    answerItem(raw, `request[${i}]`, { ctx, forcedCode, scrubCode: scrubFault?.code })
  );
  return jsonResponse({ response: wasArray ? answers : answers[0] });
}
