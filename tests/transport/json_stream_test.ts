import assert from "node:assert/strict";
import { type JsonPath, JsonStreamParser } from "../../lib/transport/json_stream.ts";
import { BodyTooLarge, ProtocolError } from "../../lib/transport/validate.ts";

const ENCODER = new TextEncoder();

/** Parses `text` fed in two chunks split at `at`, streaming the strings `wanted` selects. */
function parseSplit(
  text: string,
  at: number,
  wanted: (path: JsonPath) => boolean = () => false,
): { value: unknown; streamed: Map<string, string>; done: string[] } {
  const streamed = new Map<string, string>();
  const done: string[] = [];
  const parser = new JsonStreamParser("test", {
    streamString: (path) => {
      if (!wanted(path)) return undefined;
      const key = JSON.stringify(path);
      streamed.set(key, "");
      return (piece) => streamed.set(key, streamed.get(key)! + piece);
    },
    valueDone: (path) => done.push(JSON.stringify(path)),
  });
  const bytes = ENCODER.encode(text);
  parser.write(bytes.subarray(0, at));
  parser.write(bytes.subarray(at));
  return { value: parser.end(), streamed, done };
}

const DOCUMENTS = [
  `{"request":[{"a":1,"b":[true,false,null],"c":{"d":"e"}},{"x":-1.5e3}]}`,
  ` [ ] `,
  `{}`,
  `"just a string"`,
  `0`,
  `-12.25E-2`,
  `{"esc":"q\\"b\\\\s\\/n\\nt\\tu\\u00e9\\ud83d\\ude00","utf8":"héllo ✓ 😀"}`,
  `[[[[]]],{"":""},[{}]]`,
  `{"dup":1,"dup":2}`,
];

Deno.test("JsonStreamParser builds what JSON.parse builds, split at every byte", () => {
  for (const text of DOCUMENTS) {
    const length = ENCODER.encode(text).length;
    for (let at = 0; at <= length; at++) {
      assert.deepEqual(parseSplit(text, at).value, JSON.parse(text), `${text} split at ${at}`);
    }
  }
});

Deno.test("JsonStreamParser streams chosen strings piece by piece, escapes decoded", () => {
  const data = 'QUJD/+==\n\u00e9\ud83d\ude00"\\';
  const text = JSON.stringify({ request: [{ keep: "k", data }, { data: "second" }] })
    .replace("QUJD/", "QUJD\\/");
  const isData = (path: JsonPath) => path.at(-1) === "data";
  const length = ENCODER.encode(text).length;
  for (let at = 0; at <= length; at++) {
    const { value, streamed, done } = parseSplit(text, at, isData);
    assert.deepEqual(value, { request: [{ keep: "k", data: "" }, { data: "" }] });
    assert.equal(streamed.get(JSON.stringify(["request", 0, "data"])), data, `split at ${at}`);
    assert.equal(streamed.get(JSON.stringify(["request", 1, "data"])), "second");
    assert.ok(done.includes(JSON.stringify(["request", 0])), "each element is reported");
    assert.equal(done.at(-1), "[]", "the root is reported last");
  }
});

Deno.test("JsonStreamParser rejects malformed JSON with a byte offset", () => {
  const bad: [string, RegExp][] = [
    [`{"a" 1}`, /expected ":", got "1" at byte 5/],
    [`{"a":1,}`, /expected a key, got "}" at byte 7/],
    [`[1,]`, /unexpected "]" at byte 3/],
    [`{"a":1} x`, /after the end of the document at byte 8/],
    [`[tru]`, /invalid value "tru"/],
    [`["a\u0001"]`, /invalid string/],
    [`{"a":"\\x"}`, /invalid string/],
    [`[1 2]`, /unexpected "2"/],
    [`'single'`, /unexpected "'"/],
  ];
  for (const [text, expected] of bad) {
    assert.throws(() => parseSplit(text, 1), (e: Error) => {
      assert.ok(e instanceof ProtocolError, text);
      assert.match(e.message, /^Cannot parse test: /);
      assert.match(e.message, expected, text);
      return true;
    });
  }
  for (const text of [``, `   `, `{"a":`, `["x`, `[1`, `{"a":1`]) {
    assert.throws(
      () => parseSplit(text, 0),
      /Cannot parse test: the JSON text (is empty|ends early)/,
    );
  }
});

Deno.test("JsonStreamParser checks streamed strings too", () => {
  const stream = () => true;
  assert.throws(() => parseSplit(`["a\\q"]`, 3, stream), /invalid escape "\\\\q"/);
  assert.throws(() => parseSplit(`["a\u0001b"]`, 3, stream), /control character in a string/);
  const invalidUtf8 = new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d]);
  const parser = new JsonStreamParser("test", { streamString: () => () => {} });
  assert.throws(() => parser.write(invalidUtf8), /invalid UTF-8/);
});

Deno.test("JsonStreamParser holds at most maxHeldBytes outside streamed strings", () => {
  const big = JSON.stringify({ keep: "x".repeat(2000), stream: "y".repeat(100_000) });
  const streamOnly = (path: JsonPath) => path[0] === "stream";
  const ok = new JsonStreamParser("test", {
    streamString: (p) => streamOnly(p) ? () => {} : undefined,
  }, {
    maxHeldBytes: 2100,
  });
  ok.write(ENCODER.encode(big));
  assert.deepEqual(ok.end(), { keep: "x".repeat(2000), stream: "" });
  const tooMuch = new JsonStreamParser("test", {}, { maxHeldBytes: 2100 });
  assert.throws(() => tooMuch.write(ENCODER.encode(big)), (e: Error) => {
    assert.ok(e instanceof BodyTooLarge);
    assert.equal(e.message, "test outside streamed strings over 2100 bytes");
    return true;
  });
  const deep = new JsonStreamParser("test", {}, { maxDepth: 3 });
  assert.throws(() => deep.write(ENCODER.encode("[[[[1]]]]")), /nesting too deep/);
});
