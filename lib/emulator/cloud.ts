/**
 * The cloud-format routes (`/tecloud/api/v1/file/{query,upload,download,quota}`)
 * as served by the cloud service and by appliances on port 18194.
 *
 * @example Answer a query without the network
 * ```ts
 * import { handleQuery } from "./cloud.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * const ctx = newContext(resolveOptions({}));
 * const req = new Request("https://x/tecloud/api/v1/file/query", {
 *   method: "POST",
 *   body: JSON.stringify({ request: [{ md5: "0".repeat(32) }] }),
 * });
 * const res = await handleQuery(ctx, req);
 * assert.equal((await res.json()).response[0].status.code, 1004);
 * ```
 * @module
 */

import { parseRequestBody, type ResponseItem } from "../transport/protocol.ts";
import { Code } from "../transport/status.ts";
import { BodyTooLarge, parseJsonText, ProtocolError } from "../transport/validate.ts";
import { buildAnswer, errorAnswer } from "./answer.ts";
import type { EmulatorContext } from "./context.ts";
import { setCookieValue, teCookieOf } from "./cookie.ts";
import { downloadResponse } from "./download.ts";
import { apiError, discardBody, jsonResponse, parseJsonBody, readCapped } from "./http.ts";
import { acceptUpload } from "./intake.ts";
import { MultipartError, parseUpload } from "./multipart.ts";

/**
 * Largest query body accepted: 500-object batches are a few hundred KiB.
 *
 * @example The largest query body taken
 * ```ts
 * import { QUERY_BODY_CAP } from "./cloud.ts";
 * import assert from "node:assert/strict";
 * assert.equal(QUERY_BODY_CAP, 16777216);
 * ```
 */
export const QUERY_BODY_CAP = 16 * 1024 * 1024;

/**
 * Answers a request that could not be read: 413 when too large, 400 with
 * a 1008 status naming the problem otherwise.
 *
 * @example A broken request is answered 400
 * ```ts
 * import { badRequest } from "./cloud.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(badRequest(newContext(resolveOptions({})), new Error("broken")).status, 400);
 * ```
 */
export function badRequest(ctx: EmulatorContext, error: unknown): Response {
  ctx.stats.bad_requests++;
  if (error instanceof BodyTooLarge) return apiError(413, Code.BAD_REQUEST, error.message);
  const message = error instanceof Error ? error.message : String(error);
  return apiError(400, Code.BAD_REQUEST, message);
}

function countBad(ctx: EmulatorContext, items: ResponseItem[]): void {
  for (const item of items) if (item.status.code === Code.BAD_REQUEST) ctx.stats.bad_requests++;
}

/**
 * `POST …/query`: one answer object per request object, in request order,
 * mirroring the request's shape (object or array). `forcedCode` (a fault)
 * answers every object with that code.
 *
 * @example A fault answers every object with its code
 * ```ts
 * import { handleQuery } from "./cloud.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = newContext(resolveOptions({}));
 * const req = new Request("https://x/tecloud/api/v1/file/query", {
 *   method: "POST",
 *   body: JSON.stringify({ request: [{ md5: "0".repeat(32) }, { md5: "1".repeat(32) }] }),
 * });
 * const res = await handleQuery(ctx, req, 1009);
 * const codes = (await res.json()).response.map((r: { status: { code: number } }) =>
 *   r.status.code
 * );
 * assert.deepEqual(codes, [1009, 1009]);
 * ```
 */
export async function handleQuery(
  ctx: EmulatorContext,
  req: Request,
  forcedCode?: number,
): Promise<Response> {
  let parsed;
  try {
    const body = parseJsonBody(await readCapped(req, QUERY_BODY_CAP), "query request");
    parsed = parseRequestBody(body, "query request");
  } catch (error) {
    if (error instanceof ProtocolError || error instanceof BodyTooLarge) {
      return badRequest(ctx, error);
    }
    throw error;
  }
  const { options, samples, stats } = ctx;
  stats.queries++;
  stats.query_items += parsed.items.length;
  const now = ctx.now();
  const answers = parsed.items.map((request) => {
    if (forcedCode !== undefined) return errorAnswer(request, forcedCode);
    if (!request.md5 && !request.sha1 && !request.sha256) {
      return errorAnswer(request, Code.BAD_REQUEST, "a query object needs md5, sha1 or sha256");
    }
    const sample = samples.find(request);
    if (!sample && options.mode === "cloud" && ctx.quota.exhausted) {
      return errorAnswer(request, Code.NO_QUOTA);
    }
    return buildAnswer({ request, sample, view: "query", now, settings: options, store: samples });
  });
  countBad(ctx, answers);
  return jsonResponse(
    { response: parsed.wasArray ? answers : answers[0] },
    200,
    { "set-cookie": setCookieValue(teCookieOf(req.headers)) },
  );
}

/**
 * `POST …/upload`: a multipart body with the request JSON and the file,
 * streamed (the file is hashed and scanned chunk by chunk, never held).
 * The cloud answers an object even for a one-element array; appliances an
 * array when the request was one.
 *
 * @example Upload a file as a multipart form
 * ```ts
 * import { handleUpload } from "./cloud.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = newContext(resolveOptions({ mode: "cloud" }));
 * const form = new FormData();
 * form.append("request", JSON.stringify({ request: { features: ["te"] } }));
 * form.append("file", new File(["hello"], "hello.txt"));
 * const res = await handleUpload(ctx, new Request("https://x/", { method: "POST", body: form }));
 * const { response } = await res.json();
 * assert.equal(response.status.label, "UPLOAD_SUCCESS");
 * assert.equal(response.md5, "5d41402abc4b2a76b9719d911017c592");
 * assert.equal(ctx.stats.uploads, 1);
 * ```
 */
export async function handleUpload(
  ctx: EmulatorContext,
  req: Request,
  forcedCode?: number,
): Promise<Response> {
  if (!req.body) return badRequest(ctx, new ProtocolError("upload has no body"));
  let upload;
  try {
    upload = await parseUpload(req.body, req.headers.get("content-type") ?? "");
  } catch (error) {
    if (error instanceof MultipartError) return badRequest(ctx, error);
    const reason = error instanceof Error ? error.message : String(error);
    return badRequest(ctx, new Error(`upload body could not be read: ${reason}`));
  }
  const { stats } = ctx;
  if (!upload.file) return badRequest(ctx, new ProtocolError("upload has no file part"));
  stats.uploads++;
  stats.upload_bytes += upload.file.size;
  if (upload.requestJson === null) {
    return badRequest(ctx, new ProtocolError(`upload has no "request" part`));
  }
  let parsed;
  try {
    const body = parseJsonText(upload.requestJson, "upload request part");
    parsed = parseRequestBody(body, "upload request");
  } catch (error) {
    if (error instanceof ProtocolError || error instanceof BodyTooLarge) {
      return badRequest(ctx, error);
    }
    throw error;
  }
  if (parsed.items.length !== 1) {
    return badRequest(
      ctx,
      new ProtocolError(`an upload carries one request object, got ${parsed.items.length}`),
    );
  }
  const request = parsed.items[0];
  const answer = forcedCode !== undefined
    ? errorAnswer(request, forcedCode, undefined, {
      ...upload.file,
      fileName: upload.fileName ?? "",
    })
    : acceptUpload(ctx, upload.file, request, upload.fileName);
  countBad(ctx, [answer]);
  const asArray = parsed.wasArray && ctx.options.mode === "appliance";
  return jsonResponse({ response: asArray ? [answer] : answer });
}

/**
 * `GET|POST …/quota` (cloud only): an array of one quota object.
 *
 * @example The cloud has a quota, appliances do not
 * ```ts
 * import { handleQuota } from "./cloud.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const ask = () => new Request("https://x/", { method: "POST", body: "{}" });
 * const cloud = await handleQuota(newContext(resolveOptions({ mode: "cloud", quota: 5 })), ask());
 * assert.equal((await cloud.json()).response[0].remain_quota_hour, 5);
 * const appliance = await handleQuota(newContext(resolveOptions({})), ask());
 * assert.equal(appliance.status, 404);
 * await appliance.body?.cancel();
 * ```
 */
export async function handleQuota(ctx: EmulatorContext, req: Request): Promise<Response> {
  await discardBody(req);
  ctx.stats.quota_requests++;
  if (ctx.options.mode !== "cloud") {
    return apiError(404, Code.NOT_FOUND, "the quota API is not available on appliances");
  }
  return jsonResponse({ response: [ctx.quota.answer()] });
}

/**
 * `GET|POST …/download?id=…`.
 *
 * @example An id never handed out
 * ```ts
 * import { handleDownload } from "./cloud.ts";
 * import { newContext } from "./context.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = newContext(resolveOptions({}));
 * const res = await handleDownload(ctx, new Request("https://x/download?id=abc"));
 * assert.equal(res.status, 404);
 * await res.body?.cancel();
 * ```
 */
export async function handleDownload(ctx: EmulatorContext, req: Request): Promise<Response> {
  await discardBody(req);
  const id = new URL(req.url).searchParams.get("id");
  const res = await downloadResponse(ctx.samples, id, ctx.options);
  if (res.ok) ctx.stats.downloads++;
  return res;
}
