/**
 * The incremental JSON parser of `lib/util/json_stream.ts`, throwing the
 * client's own errors: malformed JSON is a `ProtocolError`, too much JSON
 * outside streamed strings a `BodyTooLarge`.
 *
 * @example Malformed input is a ProtocolError
 * ```ts
 * import { JsonStreamParser } from "./json_stream.ts";
 * import { ProtocolError } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const parser = new JsonStreamParser("body");
 * assert.throws(() => parser.write(new TextEncoder().encode('{"a" 1}')), ProtocolError);
 * ```
 * @module
 */

import {
  type JsonStreamHooks,
  type JsonStreamLimits,
  JsonStreamParser as GenericParser,
} from "../util/json_stream.ts";
import { BodyTooLarge, ProtocolError } from "./validate.ts";

export {
  envelopeEntry,
  type JsonPath,
  type JsonStreamHooks,
  type JsonStreamLimits,
} from "../util/json_stream.ts";

/**
 * The parser, with the client's error types.
 *
 * @example Too much JSON outside streamed strings is a BodyTooLarge
 * ```ts
 * import { JsonStreamParser } from "./json_stream.ts";
 * import { BodyTooLarge } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const parser = new JsonStreamParser("answer", {}, { maxHeldBytes: 8 });
 * assert.throws(() => parser.write(new TextEncoder().encode('"a long string"')), BodyTooLarge);
 * ```
 */
export class JsonStreamParser extends GenericParser {
  constructor(what: string, hooks: JsonStreamHooks = {}, limits: JsonStreamLimits = {}) {
    super(what, hooks, {
      malformed: (message) => new ProtocolError(message),
      tooLarge: (cap, held) => new BodyTooLarge(cap, held),
      ...limits,
    });
  }
}
