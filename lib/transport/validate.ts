/**
 * Small validators for JSON read off the wire.
 *
 * Every protocol shape is checked at the edge, field by field, so that a
 * malformed or hostile answer becomes one clear {@linkcode ProtocolError}
 * naming the JSON path, instead of a `TypeError` deep in the pipeline.
 * Unknown fields are tolerated: Check Point adds fields between versions.
 *
 * @example Read a field of an answer
 * ```ts
 * import { expectObject, optionalString } from "./validate.ts";
 * import assert from "node:assert/strict";
 *
 * const item = expectObject(JSON.parse('{"md5":"abc"}'), "response[0]");
 * assert.equal(optionalString(item, "md5", "response[0]"), "abc");
 * ```
 * @module
 */

/** A wire value that is not what the protocol allows. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/**
 * A body (or the part of it that must be held) larger than its reader
 * accepts: a request to the emulator, or JSON outside the strings a
 * streaming parser hands over.
 *
 * @example Say what is too large
 * ```ts
 * import { BodyTooLarge } from "./validate.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new BodyTooLarge(16).message, "request body over 16 bytes");
 * assert.equal(
 *   new BodyTooLarge(16, "JSON outside file data").message,
 *   "JSON outside file data over 16 bytes",
 * );
 * ```
 */
export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
  constructor(cap: number, what = "request body") {
    super(`${what} over ${cap} bytes`);
  }
}

/** A JSON object, as read off the wire. */
export type JsonObject = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

function fail(path: string, expected: string, value: unknown): never {
  const shown = describe(value);
  throw new ProtocolError(`${path}: expected ${expected}, got ${shown.slice(0, 80)}`);
}

/**
 * Checks that `value` is a plain JSON object.
 *
 * @example An object passes, an array does not
 * ```ts
 * import { expectObject } from "./validate.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(expectObject({ a: 1 }, "body"), { a: 1 });
 * assert.throws(() => expectObject([1], "body"), /body/);
 * ```
 */
export function expectObject(value: unknown, path: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(path, "an object", value);
  }
  return value as JsonObject;
}

/**
 * Reads a required string field.
 *
 * @example A present string
 * ```ts
 * import { requiredString } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(requiredString({ label: "FOUND" }, "label", "status"), "FOUND");
 * ```
 */
export function requiredString(obj: JsonObject, key: string, path: string): string {
  const value = obj[key];
  if (typeof value !== "string") fail(`${path}.${key}`, "a string", value);
  return value;
}

/**
 * Reads an optional string field; `null` and absent both give `undefined`.
 *
 * @example A null counts as missing
 * ```ts
 * import { optionalString } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(optionalString({ summary_report: null }, "summary_report", "te"), undefined);
 * ```
 */
export function optionalString(obj: JsonObject, key: string, path: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") fail(`${path}.${key}`, "a string or null", value);
  return value;
}

/**
 * Reads a required finite number field.
 *
 * @example A present number
 * ```ts
 * import { requiredNumber } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(requiredNumber({ code: 1001 }, "code", "status"), 1001);
 * ```
 */
export function requiredNumber(obj: JsonObject, key: string, path: string): number {
  const value = obj[key];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    fail(`${path}.${key}`, "a number", value);
  }
  return value;
}

/**
 * Reads an optional finite number field; `null` and absent both give `undefined`.
 *
 * @example An optional number that is there
 * ```ts
 * import { optionalNumber } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(optionalNumber({ severity: 4 }, "severity", "te"), 4);
 * ```
 */
export function optionalNumber(obj: JsonObject, key: string, path: string): number | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    fail(`${path}.${key}`, "a number or null", value);
  }
  return value;
}

/**
 * Reads an optional boolean field.
 *
 * @example A false that is there
 * ```ts
 * import { optionalBoolean } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(optionalBoolean({ tex_product: false }, "tex_product", "extraction"), false);
 * ```
 */
export function optionalBoolean(obj: JsonObject, key: string, path: string): boolean | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") fail(`${path}.${key}`, "a boolean or null", value);
  return value;
}

/**
 * Reads an optional object field.
 *
 * @example A nested object
 * ```ts
 * import { optionalObject } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(optionalObject({ te: {} }, "te", "response[0]"), {});
 * ```
 */
export function optionalObject(obj: JsonObject, key: string, path: string): JsonObject | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  return expectObject(value, `${path}.${key}`);
}

/**
 * Reads an optional array field, validating each element with `each`.
 *
 * @example An array of strings, checked one by one
 * ```ts
 * import { optionalArray } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const features = optionalArray({ features: ["te"] }, "features", "r", (v, p) => {
 *   if (typeof v !== "string") throw new Error(p);
 *   return v;
 * });
 * assert.deepEqual(features, ["te"]);
 * ```
 */
export function optionalArray<T>(
  obj: JsonObject,
  key: string,
  path: string,
  each: (value: unknown, path: string) => T,
): T[] | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) fail(`${path}.${key}`, "an array", value);
  return value.map((element, i) => each(element, `${path}.${key}[${i}]`));
}

/**
 * Element validator for arrays of strings.
 *
 * @example Strings in an array
 * ```ts
 * import { optionalArray, stringElement } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(optionalArray({ reports: ["pdf"] }, "reports", "te", stringElement), ["pdf"]);
 * ```
 */
export function stringElement(value: unknown, path: string): string {
  if (typeof value !== "string") fail(path, "a string", value);
  return value;
}

/**
 * Element validator for arrays of numbers.
 *
 * @example Numbers in an array
 * ```ts
 * import { numberElement, optionalArray } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(optionalArray({ codes: [1018] }, "codes", "x", numberElement), [1018]);
 * ```
 */
export function numberElement(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(path, "a number", value);
  return value;
}

/**
 * Parses JSON text, turning a syntax error into a {@linkcode ProtocolError}
 * that names what was being read and shows the start of the text.
 *
 * @example Parse JSON, naming what it was
 * ```ts
 * import { parseJsonText } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseJsonText('{"a":1}', "query answer"), { a: 1 });
 * ```
 */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const start = text.slice(0, 60).replace(/\s+/g, " ");
    throw new ProtocolError(`${what} is not JSON (starts with ${JSON.stringify(start)})`);
  }
}
