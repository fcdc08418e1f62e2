import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { eicarBytes } from "../../lib/emulator/eicar.ts";
import {
  BytePattern,
  type ContentFacts,
  ContentScanner,
  type Marker,
  scanBytes,
} from "../../lib/emulator/content_scan.ts";
import { seededRandom } from "../../lib/emulator/rng.ts";

const enc = new TextEncoder();

const MARKER_BYTES: ReadonlyArray<readonly [Marker, Uint8Array]> = [
  ["eicar", eicarBytes()],
  ["malicious", enc.encode("TE-EMULATOR-MALICIOUS")],
  ["unsupported", enc.encode("TE-EMULATOR-UNSUPPORTED")],
];

function randomBytes(n: number, seed: number, alphabet = 256): Uint8Array {
  const next = seededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * alphabet);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function scanInChunks(bytes: Uint8Array, cuts: number[]): ContentFacts {
  const scanner = new ContentScanner();
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    scanner.update(bytes.slice(from, cut));
    from = cut;
  }
  return scanner.finish();
}

function randomCuts(length: number, seed: number, maxChunk: number): number[] {
  const next = seededRandom(seed);
  const cuts: number[] = [];
  for (let at = 1 + Math.floor(next() * maxChunk); at < length;) {
    cuts.push(at);
    at += 1 + Math.floor(next() * maxChunk);
  }
  return cuts;
}

function nodeDigests(bytes: Uint8Array): { md5: string; sha1: string; sha256: string } {
  const hex = (alg: string) => createHash(alg).update(bytes).digest("hex");
  return { md5: hex("md5"), sha1: hex("sha1"), sha256: hex("sha256") };
}

Deno.test("scanBytes gives the standard digests of empty and 'abc' input", () => {
  assert.deepEqual(scanBytes(new Uint8Array(0)), {
    md5: "d41d8cd98f00b204e9800998ecf8427e",
    sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    size: 0,
    markers: new Set(),
  });
  assert.deepEqual(scanBytes(enc.encode("abc")), {
    md5: "900150983cd24fb0d6963f7d28e17f72",
    sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
    sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    size: 3,
    markers: new Set(),
  });
});

Deno.test("digests and size do not depend on how the content is chunked", () => {
  const data = randomBytes(200_000, 1);
  const expected = { ...nodeDigests(data), size: data.length, markers: new Set<Marker>() };
  assert.deepEqual(scanBytes(data), expected);
  for (const seed of [2, 3, 4]) {
    assert.deepEqual(scanInChunks(data, randomCuts(data.length, seed, 5000)), expected, `${seed}`);
  }
  const small = data.subarray(0, 3000);
  const oneByte = scanInChunks(small, Array.from({ length: small.length - 1 }, (_, i) => i + 1));
  assert.deepEqual(oneByte, { ...nodeDigests(small), size: 3000, markers: new Set() });
});

Deno.test("each marker is found when split between two chunks at every offset", () => {
  for (const [marker, bytes] of MARKER_BYTES) {
    const content = concat(randomBytes(300, 5), bytes, randomBytes(300, 6));
    for (let k = 0; k <= bytes.length; k++) {
      const facts = scanInChunks(content, [300 + k]);
      assert.deepEqual(facts.markers, new Set([marker]), `${marker} split at ${k}`);
    }
  }
});

Deno.test("markers spread over many small chunks are all found", () => {
  const content = concat(
    randomBytes(1000, 7),
    MARKER_BYTES[0][1],
    enc.encode(" some text "),
    MARKER_BYTES[1][1],
    randomBytes(10, 8),
    MARKER_BYTES[2][1],
    randomBytes(1000, 9),
  );
  const all = new Set<Marker>(["eicar", "malicious", "unsupported"]);
  const oneByte = Array.from({ length: content.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(scanInChunks(content, oneByte).markers, all);
  for (const seed of [10, 11, 12, 13]) {
    assert.deepEqual(scanInChunks(content, randomCuts(content.length, seed, 9)).markers, all);
  }
  // A middle chunk shorter than the marker: it starts in one and ends in another.
  const start = 1000 + 68 + 11;
  assert.deepEqual(scanInChunks(content, [start + 3, start + 10]).markers, all);
});

Deno.test("markers at the very start and very end of the content are found", () => {
  const content = concat(eicarBytes(), randomBytes(5000, 14), MARKER_BYTES[2][1]);
  assert.deepEqual(scanBytes(content).markers, new Set(["eicar", "unsupported"]));
  assert.deepEqual(
    scanInChunks(content, [10, content.length - 5]).markers,
    new Set(["eicar", "unsupported"]),
  );
  assert.deepEqual(scanBytes(eicarBytes()).markers, new Set(["eicar"]));
});

Deno.test("near misses are not reported as markers", () => {
  for (const [marker, bytes] of MARKER_BYTES) {
    const truncated = bytes.subarray(0, bytes.length - 1);
    const altered = bytes.slice();
    altered[Math.floor(bytes.length / 2)] ^= 0x20;
    const gapped = concat(bytes.subarray(0, 5), enc.encode("."), bytes.subarray(5));
    for (const content of [truncated, altered, gapped]) {
      const padded = concat(randomBytes(100, 15), content, randomBytes(100, 16));
      assert.deepEqual(scanBytes(padded).markers, new Set(), marker);
      assert.deepEqual(scanInChunks(padded, randomCuts(padded.length, 17, 7)).markers, new Set());
    }
  }
});

Deno.test("a caller may overwrite its buffer right after update()", () => {
  const marker = MARKER_BYTES[1][1];
  const half = 10;
  // Longer than any marker, so the scanner's tail comes from this buffer alone.
  for (const size of [100, marker.length - half]) {
    const buffer = new Uint8Array(size).fill(0x2e);
    const scanner = new ContentScanner();
    buffer.set(marker.subarray(0, half), size - half);
    const first = buffer.slice();
    scanner.update(buffer);
    // Had the scanner kept a view of `buffer` rather than a copy, it would now
    // see the second half twice and miss the marker.
    buffer.fill(0x2e).set(marker.subarray(half));
    scanner.update(buffer);
    const facts = scanner.finish();
    assert.deepEqual(facts.markers, new Set(["malicious"]), `${size}`);
    assert.equal(facts.sha256, nodeDigests(concat(first, buffer)).sha256);
  }
});

Deno.test("finish() is repeatable and update() after it is refused", () => {
  const scanner = new ContentScanner();
  scanner.update(MARKER_BYTES[1][1]);
  const first = scanner.finish();
  first.markers.clear();
  const second = scanner.finish();
  assert.deepEqual(second.markers, new Set(["malicious"]));
  assert.equal(second.md5, first.md5);
  assert.throws(() => scanner.update(new Uint8Array(1)), /after finish/);
});

Deno.test("BytePattern agrees with a naive search on repetitive data", () => {
  const naive = (h: Uint8Array, n: Uint8Array, from: number) => {
    outer: for (let i = from; i + n.length <= h.length; i++) {
      for (let j = 0; j < n.length; j++) if (h[i + j] !== n[j]) continue outer;
      return i;
    }
    return -1;
  };
  const next = seededRandom(18);
  for (let round = 0; round < 500; round++) {
    // A two- or three-letter alphabet makes partial matches and repeats common.
    const alphabet = 2 + (round % 2);
    const hay = randomBytes(Math.floor(next() * 200), 100 + round, alphabet);
    const needle = randomBytes(1 + Math.floor(next() * 6), 1000 + round, alphabet);
    const from = Math.floor(next() * 20);
    assert.equal(new BytePattern(needle).indexIn(hay, from), naive(hay, needle, from), `${round}`);
  }
});

Deno.test("BytePattern finds a needle at the edges and rejects an empty one", () => {
  const p = new BytePattern(enc.encode("\r\n--b"));
  assert.equal(p.indexIn(enc.encode("\r\n--b")), 0);
  assert.equal(p.indexIn(enc.encode("xx\r\n--b")), 2);
  assert.equal(p.indexIn(enc.encode("xx\r\n--")), -1);
  assert.equal(p.indexIn(enc.encode("\r\n--b\r\n--b"), 1), 5);
  assert.equal(p.length, 5);
  assert.throws(() => new BytePattern(new Uint8Array(0)), RangeError);
});
