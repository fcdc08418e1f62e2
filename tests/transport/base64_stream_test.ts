import assert from "node:assert/strict";
import { Base64Decoder, Base64Error } from "../../lib/transport/base64_stream.ts";
import { concatBytes } from "../../lib/util/bytes.ts";

function decodePieces(pieces: string[]): Uint8Array {
  const out: Uint8Array[] = [];
  const decoder = new Base64Decoder((bytes) => out.push(bytes.slice()));
  for (const piece of pieces) decoder.write(piece);
  decoder.end();
  return concatBytes(out);
}

Deno.test("Base64Decoder decodes text cut at every place, for every length mod 3", () => {
  for (let length = 0; length <= 10; length++) {
    const bytes = new Uint8Array(length).map((_, i) => (i * 37 + 200) & 0xff);
    const text = bytes.toBase64();
    for (let a = 0; a <= text.length; a++) {
      for (let b = a; b <= text.length; b++) {
        const pieces = [text.slice(0, a), text.slice(a, b), text.slice(b)];
        assert.deepEqual(decodePieces(pieces), bytes, `${text} cut at ${a}, ${b}`);
      }
    }
    assert.deepEqual(decodePieces([text.replace(/=+$/, "")]), bytes, "padding may be left out");
  }
});

Deno.test("Base64Decoder skips MIME line breaks and other ASCII whitespace", () => {
  const bytes = new Uint8Array(100).map((_, i) => i);
  const wrapped = bytes.toBase64().replace(/.{1,76}/g, "$&\r\n");
  assert.deepEqual(decodePieces([wrapped.slice(0, 50), wrapped.slice(50)]), bytes);
  assert.deepEqual(decodePieces([" QU", "\tJD \n"]), new TextEncoder().encode("ABC"));
});

Deno.test("Base64Decoder refuses what is not base64, saying where", () => {
  const cases: [string[], RegExp][] = [
    [["QUJD", "QU-D"], /character "-" at offset 6/],
    [["QUJD_"], /character "_" at offset 4/],
    [["QQ==QUJD"], /padding "=" before the end at offset 2/],
    [["QQ==", "QUJD"], /data after the padding at offset 4/],
    [["Q=Q="], /padding "=" before the end/],
    [["QUJDR"], /truncated: one character left over at offset 4/],
    [["é"], /character "é" at offset 0/],
  ];
  for (const [pieces, expected] of cases) {
    assert.throws(() => decodePieces(pieces), (e: Error) => {
      assert.ok(e instanceof Base64Error, pieces.join("|"));
      assert.match(e.message, expected, pieces.join("|"));
      return true;
    });
  }
});
