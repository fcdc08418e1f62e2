/**
 * Reading and checking requests, both transports, as the protocol reference
 * (§2) and the gateway guide (sk137032, `shared/seeds/`) describe them. Each
 * object is checked against a table of its fields: a field of the wrong JSON
 * type, a `request` that is neither an object nor an array, or a missing
 * required field is a {@link BadRequest} naming the field. Fields the
 * protocol has but the emulator does not act on (`url`, `subject`,
 * `te.rule_id`, `av`, …) are allowed, as the service allows them.
 *
 * @example A cloud query of one object, and a `request` of the wrong type
 * ```ts
 * import { parseCloudBody } from "./requests.ts";
 * import assert from "node:assert/strict";
 * const body = parseCloudBody({ request: { md5: "AB", te: { return_errors: true } } }, "query");
 * assert.equal(body.wasArray, false);
 * assert.equal(body.items[0].md5, "ab");
 * assert.equal(body.items[0].te?.return_errors, true);
 * assert.throws(() => parseCloudBody({ request: "x" }, "query"), /object or an array/);
 * ```
 * @module
 */

import { BadRequest, type RequestItem, type TeRequest } from "./wire.ts";

/** The JSON type a field must have. */
type FieldType =
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "object"
  | "array"
  | "strings"
  | "integers";

/** A table of an object's fields and their JSON types. */
export type Fields = Readonly<Record<string, FieldType>>;

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

const TYPE_NAMES: Readonly<Record<FieldType, string>> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
  strings: "an array of strings",
  integers: "an array of integers",
};

function fits(value: unknown, type: FieldType): boolean {
  switch (type) {
    case "string":
    case "number":
    case "boolean":
      return typeof value === type && (type !== "number" || Number.isFinite(value));
    case "integer":
      return Number.isInteger(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "strings":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    case "integers":
      return Array.isArray(value) && value.every((v) => Number.isInteger(v));
  }
}

/**
 * Checks that `value` is a JSON object whose listed fields, where present,
 * have their types, and that every `required` field is there.
 *
 * @example A field of the wrong type is named
 * ```ts
 * import { checkObject } from "./requests.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(checkObject({ a: 1 }, "x", { a: "integer" }), { a: 1 });
 * assert.throws(() => checkObject({ a: "1" }, "x", { a: "integer" }), /x\.a: expected an integer/);
 * assert.throws(() => checkObject({}, "x", { a: "integer" }, ["a"]), /x\.a: missing/);
 * ```
 */
export function checkObject(
  value: unknown,
  path: string,
  fields: Fields,
  required: readonly string[] = [],
): Record<string, unknown> {
  if (!fits(value, "object")) {
    throw new BadRequest(`${path}: expected an object, got ${typeName(value)}`);
  }
  const obj = value as Record<string, unknown>;
  for (const name of required) {
    if (obj[name] === undefined) throw new BadRequest(`${path}.${name}: missing`);
  }
  for (const [name, type] of Object.entries(fields)) {
    const field = obj[name];
    if (field !== undefined && !fits(field, type)) {
      throw new BadRequest(`${path}.${name}: expected ${TYPE_NAMES[type]}, got ${typeName(field)}`);
    }
  }
  return obj;
}

const ITEM: Fields = {
  md5: "string",
  sha1: "string",
  sha256: "string",
  file_name: "string",
  file_type: "string",
  features: "strings",
  te: "object",
  te_eb: "object",
  av: "object",
  extraction: "object",
  quota: "boolean",
};

const TE: Fields = {
  reports: "strings",
  images: "array",
  benign_reports: "boolean",
  version_info: "boolean",
  return_errors: "boolean",
  reports_version_number: "integer",
};

const EXTRACTION: Fields = {
  method: "string",
  extracted_parts_codes: "integers",
  scrubbed_parts_codes: "strings",
};

function readImages(raw: unknown[], path: string): TeRequest["images"] {
  return raw.map((entry, i) => {
    const p = `${path}[${i}]`;
    // XSOAR sends `image_revision` for `revision` (§2.2).
    const image = checkObject(entry, p, {
      id: "string",
      revision: "integer",
      image_revision: "integer",
    }, ["id"]);
    const revision = (image.revision ?? image.image_revision) as number | undefined;
    return revision === undefined
      ? { id: image.id as string }
      : { id: image.id as string, revision };
  });
}

function readTe(raw: unknown, path: string): TeRequest {
  const te = checkObject(raw ?? {}, path, TE);
  const out: TeRequest = {
    version_info: te.version_info === true,
    return_errors: te.return_errors === true,
  };
  if (te.reports) out.reports = te.reports as string[];
  if (te.images !== undefined) out.images = readImages(te.images as unknown[], `${path}.images`);
  if (te.benign_reports !== undefined) out.benign_reports = te.benign_reports as boolean;
  if (te.reports_version_number !== undefined) {
    out.reports_version_number = te.reports_version_number as number;
  }
  return out;
}

function readExtraction(raw: unknown, path: string): RequestItem["extraction"] {
  const extraction = checkObject(raw, path, EXTRACTION);
  const method = extraction.method;
  if (method !== undefined && method !== "pdf" && method !== "clean") {
    throw new BadRequest(
      `${path}.method: expected "pdf" or "clean", got ${JSON.stringify(method)}`,
    );
  }
  const out: NonNullable<RequestItem["extraction"]> = {};
  if (method !== undefined) out.method = method;
  if (extraction.extracted_parts_codes) {
    out.extracted_parts_codes = extraction.extracted_parts_codes as number[];
  }
  if (extraction.scrubbed_parts_codes) {
    out.scrubbed_parts_codes = extraction.scrubbed_parts_codes as string[];
  }
  return out;
}

/**
 * Checks one cloud-format request object (a query's or an upload's, and the
 * cloud-format part of a gateway request). An empty digest counts as none
 * (`tp_api` sends `"sha1": ""` next to the md5); digests are compared in
 * lower case; a `file_type` with a leading dot (XSOAR) loses it. `te` is
 * always set, with `version_info` and `return_errors` as booleans.
 *
 * @example Empty digests are none; the te flags are booleans
 * ```ts
 * import { parseCloudItem } from "./requests.ts";
 * import assert from "node:assert/strict";
 * const item = parseCloudItem({ sha1: "", md5: "AB", file_type: ".pdf" }, "request");
 * assert.deepEqual(item, {
 *   md5: "ab",
 *   file_type: "pdf",
 *   te: { version_info: false, return_errors: false },
 * });
 * assert.throws(() => parseCloudItem({ features: "te" }, "request"), /features: expected an array of strings/);
 * ```
 */
export function parseCloudItem(value: unknown, path: string): RequestItem {
  const obj = checkObject(value, path, ITEM);
  const item: RequestItem = {};
  for (const key of ["md5", "sha1", "sha256"] as const) {
    const digest = obj[key] as string | undefined;
    if (digest) item[key] = digest.toLowerCase();
  }
  if (obj.file_name !== undefined) item.file_name = obj.file_name as string;
  if (obj.file_type !== undefined) item.file_type = (obj.file_type as string).replace(/^\./, "");
  if (obj.features) item.features = obj.features as string[];
  item.te = readTe(obj.te, `${path}.te`);
  if (obj.extraction) item.extraction = readExtraction(obj.extraction, `${path}.extraction`);
  if (obj.quota !== undefined) item.quota = obj.quota as boolean;
  return item;
}

/**
 * Checks a cloud-format body `{"request": …}`: `request` is one object or an
 * array of them (§2.6); the answer mirrors which.
 *
 * @example An array of two
 * ```ts
 * import { parseCloudBody } from "./requests.ts";
 * import assert from "node:assert/strict";
 * const body = parseCloudBody({ request: [{ md5: "a" }, { sha1: "b" }] }, "query");
 * assert.equal(body.wasArray, true);
 * assert.equal(body.items.length, 2);
 * assert.throws(() => parseCloudBody({}, "query"), /query\.request: missing/);
 * ```
 */
export function parseCloudBody(
  value: unknown,
  what: string,
): { items: RequestItem[]; wasArray: boolean } {
  const body = checkObject(value, what, {}, ["request"]);
  const request = body.request;
  if (Array.isArray(request)) {
    return {
      items: request.map((item, i) => parseCloudItem(item, `${what}.request[${i}]`)),
      wasArray: true,
    };
  }
  if (!fits(request, "object")) {
    throw new BadRequest(
      `${what}.request: expected an object or an array of objects, got ${typeName(request)}`,
    );
  }
  return { items: [parseCloudItem(request, `${what}.request`)], wasArray: false };
}

/**
 * The protocol version every gateway request object carries (sk137032).
 *
 * @example The version of the guide
 * ```ts
 * import { GATEWAY_VERSION } from "./requests.ts";
 * import assert from "node:assert/strict";
 * assert.equal(GATEWAY_VERSION, "1.1");
 * ```
 */
export const GATEWAY_VERSION = "1.1";

/** `scrub_options` of an UploadFile, as checked. */
export interface ScrubOptions {
  /** 0 by profile, 1 extract (clean), 2 convert to PDF. */
  scrub_method: 0 | 1 | 2;
  profile_name?: string;
  scrubbed_parts_codes?: number[];
  save_original_file_on_server?: boolean;
  sender?: string;
}

/** A gateway request object, as checked. */
export type GatewayRequest =
  | { request_name: "QueryFile"; query: RequestItem }
  | { request_name: "UploadFile"; file_orig_name?: string; te?: RequestItem; scrub?: ScrubOptions };

// "These fields must be included in each request" (sk137032).
const HEADERS = ["protocol_version", "api_key", "request_name"] as const;

const UPLOAD: Fields = {
  file_enc_data: "string",
  file_orig_name: "string",
  te_options: "object",
  scrub_options: "object",
};

const TE_OPTIONS: Fields = {
  file_name: "string",
  file_type: "string",
  is_base64: "boolean",
  features: "strings",
  te: "object",
};

const SCRUB_OPTIONS: Fields = {
  scrub_method: "integer",
  profile_name: "string",
  scrubbed_parts_codes: "integers",
  save_original_file_on_server: "boolean",
  sender: "string",
};

function readScrub(raw: unknown, path: string): ScrubOptions {
  const scrub = checkObject(raw, path, SCRUB_OPTIONS, ["scrub_method"]);
  const method = scrub.scrub_method;
  if (method !== 0 && method !== 1 && method !== 2) {
    throw new BadRequest(`${path}.scrub_method: expected 0, 1 or 2, got ${method}`);
  }
  if (method === 0 && !scrub.profile_name) {
    throw new BadRequest(`${path}.profile_name: required when scrub_method is 0`);
  }
  const out: ScrubOptions = { scrub_method: method };
  for (const key of ["profile_name", "sender"] as const) {
    if (scrub[key] !== undefined) out[key] = scrub[key] as string;
  }
  if (scrub.scrubbed_parts_codes) out.scrubbed_parts_codes = scrub.scrubbed_parts_codes as number[];
  if (scrub.save_original_file_on_server !== undefined) {
    out.save_original_file_on_server = scrub.save_original_file_on_server as boolean;
  }
  return out;
}

function readUpload(obj: Record<string, unknown>, path: string): GatewayRequest {
  checkObject(obj, path, UPLOAD, ["file_enc_data"]);
  const out: GatewayRequest = { request_name: "UploadFile" };
  if (obj.file_orig_name !== undefined) out.file_orig_name = obj.file_orig_name as string;
  if (obj.te_options !== undefined) {
    checkObject(obj.te_options, `${path}.te_options`, TE_OPTIONS);
    out.te = parseCloudItem(obj.te_options, `${path}.te_options`);
  }
  if (obj.scrub_options !== undefined) {
    out.scrub = readScrub(obj.scrub_options, `${path}.scrub_options`);
  }
  if (!out.te && !out.scrub) {
    throw new BadRequest(`${path}: UploadFile needs te_options or scrub_options`);
  }
  return out;
}

/**
 * Checks one gateway (TPAPI) request object: the three header fields,
 * protocol version 1.1, then QueryFile (a digest, `features` and `te` at the
 * top) or UploadFile (`file_enc_data`, `te_options` and/or `scrub_options`).
 * The API key's value is the caller's to judge.
 *
 * @example The guide's QueryFile, and one without its request_name
 * ```ts
 * import { parseGatewayObject } from "./requests.ts";
 * import assert from "node:assert/strict";
 * const query = {
 *   protocol_version: "1.1",
 *   api_key: "k",
 *   request_name: "QueryFile",
 *   sha1: "c22b5f9178342609428d6f51b2c5af4c0bde6a42",
 *   features: ["te"],
 *   te: {},
 * };
 * const parsed = parseGatewayObject(query, "request[0]");
 * assert.equal(parsed.request_name, "QueryFile");
 * const { request_name: _, ...nameless } = query;
 * assert.throws(() => parseGatewayObject(nameless, "request[0]"), /request_name: missing/);
 * ```
 */
export function parseGatewayObject(value: unknown, path: string): GatewayRequest {
  const obj = checkObject(
    value,
    path,
    { protocol_version: "string", api_key: "string", request_name: "string" },
    HEADERS,
  );
  if (obj.protocol_version !== GATEWAY_VERSION) {
    const got = JSON.stringify(obj.protocol_version);
    throw new BadRequest(`${path}.protocol_version: expected "${GATEWAY_VERSION}", got ${got}`);
  }
  if (obj.request_name === "UploadFile") return readUpload(obj, path);
  if (obj.request_name !== "QueryFile") {
    const got = JSON.stringify(obj.request_name);
    throw new BadRequest(`${path}.request_name: expected "QueryFile" or "UploadFile", got ${got}`);
  }
  const query = parseCloudItem(obj, path);
  if (!query.md5 && !query.sha1 && !query.sha256) {
    throw new BadRequest(`${path}: QueryFile needs md5, sha1 or sha256`);
  }
  return { request_name: "QueryFile", query };
}
