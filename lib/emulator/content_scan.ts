/**
 * Streaming inspection of uploaded bytes: the three digests the service
 * indexes samples by, the size, and the test markers that steer the emulated
 * verdict.
 *
 * Uploads can be GiBs, so nothing here holds more than a marker's length of
 * the content: digests are fed incrementally and the marker search carries a
 * short tail from one chunk to the next, so a marker split across chunks is
 * still seen.
 *
 * @example A marker split across two chunks is still seen
 * ```ts
 * import { ContentScanner } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 * const scanner = new ContentScanner();
 * scanner.update(new TextEncoder().encode("xx TE-EMULATOR-MAL"));
 * scanner.update(new TextEncoder().encode("ICIOUS yy"));
 * assert.equal(scanner.finish().markers.has("malicious"), true);
 * ```
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { eicarBytes } from "./eicar.ts";

/**
 * A marker found in the content (see {@link CONTENT_MARKERS} for what each
 * one makes the emulator answer).
 */
export type Marker =
  | "eicar"
  | "malicious"
  | "early-malicious"
  | "unsupported"
  | "emulation-error"
  | "active-content"
  | "encrypted";

/**
 * One content marker: its id and the text that stands for it in help and
 * documentation (the ASCII marker itself, or `EICAR` for the test string,
 * which no file of the project spells out).
 */
export interface ContentMarker {
  marker: Marker;
  name: string;
}

const ASCII = new TextEncoder();

const MARKER_BYTES: Readonly<Record<Marker, Uint8Array>> = {
  // te, te_eb and av say Malicious; the AV signature is EICAR-Test-File.
  eicar: eicarBytes(),
  // te and te_eb say Malicious; AV has no signature for it (a "zero-day").
  malicious: ASCII.encode("TE-EMULATOR-MALICIOUS"),
  // te_eb says Malicious early, the final te verdict is Benign.
  "early-malicious": ASCII.encode("TE-EMULATOR-EARLY-MALICIOUS"),
  // Every feature answers 1007; Threat Extraction answers 3 Unsupported.
  unsupported: ASCII.encode("TE-EMULATOR-UNSUPPORTED"),
  // The emulation fails: te says Error to a client that sends te.return_errors, else Benign.
  "emulation-error": ASCII.encode("TE-EMULATOR-EMULATION-ERROR"),
  // Threat Extraction (method 1 or 0) has something to remove.
  "active-content": ASCII.encode("TE-EMULATOR-ACTIVE-CONTENT"),
  // Threat Extraction answers 7 Password protected.
  encrypted: ASCII.encode("TE-EMULATOR-ENCRYPTED"),
};

/**
 * Every marker the scanner looks for, in the order help lists them. Tests
 * check that `te-scan emulator --help` explains each one.
 *
 * @example The markers help lists
 * ```ts
 * import { CONTENT_MARKERS } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 * assert.equal(CONTENT_MARKERS.map((m) => m.name).includes("TE-EMULATOR-EARLY-MALICIOUS"), true);
 * ```
 */
export const CONTENT_MARKERS: readonly ContentMarker[] = (
  Object.keys(MARKER_BYTES) as Marker[]
).map((marker) => ({
  marker,
  name: marker === "eicar" ? "EICAR" : new TextDecoder().decode(MARKER_BYTES[marker]),
}));

/**
 * The bytes of a marker (a copy), for code that must find or replace it.
 *
 * @example The bytes of a marker
 * ```ts
 * import { markerBytes } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new TextDecoder().decode(markerBytes("encrypted")), "TE-EMULATOR-ENCRYPTED");
 * ```
 */
export function markerBytes(marker: Marker): Uint8Array {
  return MARKER_BYTES[marker].slice();
}

/**
 * What the emulator learns from an uploaded file.
 *
 * @example The facts of three bytes
 * ```ts
 * import { type ContentFacts, scanBytes } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 * const facts: ContentFacts = scanBytes(new Uint8Array([1, 2, 3]));
 * assert.equal(facts.size, 3);
 * ```
 */
export interface ContentFacts {
  /** Lower-case hex MD5 of the content. */
  md5: string;
  /** Lower-case hex SHA-1 of the content. */
  sha1: string;
  /** Lower-case hex SHA-256 of the content. */
  sha256: string;
  /** Content length in bytes. */
  size: number;
  /** Markers present anywhere in the content. */
  markers: Set<Marker>;
}

/**
 * A fixed byte string with a Boyer-Moore-Horspool skip table.
 *
 * Horspool rather than `indexOf` on the first byte: with needles of 20+ bytes
 * it skips most of the haystack and measured 4-5 GiB/s on random and text data
 * here, against 0.6-1.3 GiB/s for first-byte `indexOf`, and the emulator may
 * have to search GiBs.
 *
 * @example Find a needle
 * ```ts
 * import { BytePattern } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 * const p = new BytePattern(new TextEncoder().encode("needle"));
 * assert.equal(p.indexIn(new TextEncoder().encode("haystack with a needle")), 16);
 * ```
 */
export class BytePattern {
  /** The bytes searched for. */
  readonly bytes: Uint8Array;
  #skip: Uint32Array;

  /**
   * Prepares the search for `bytes` (copied, so the caller may reuse them).
   *
   * @example An empty pattern is refused
   * ```ts
   * import { BytePattern } from "./content_scan.ts";
   * import assert from "node:assert/strict";
   *
   * const pattern = new BytePattern(new Uint8Array([13, 10, 13, 10]));
   * assert.equal(pattern.indexIn(new TextEncoder().encode("head\r\n\r\nbody")), 4);
   * assert.throws(() => new BytePattern(new Uint8Array()), RangeError);
   * ```
   */
  constructor(bytes: Uint8Array) {
    if (bytes.length === 0) throw new RangeError("BytePattern: empty pattern");
    this.bytes = bytes.slice();
    const m = this.bytes.length;
    this.#skip = new Uint32Array(256).fill(m);
    for (let i = 0; i < m - 1; i++) this.#skip[this.bytes[i]] = m - 1 - i;
  }

  /**
   * Pattern length in bytes.
   *
   * @example The pattern's length
   * ```ts
   * import { BytePattern } from "./content_scan.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new BytePattern(new Uint8Array([1, 2, 3])).length, 3);
   * ```
   */
  get length(): number {
    return this.bytes.length;
  }

  /**
   * Index of the first occurrence at or after `from`, or -1.
   *
   * @example Search from an offset
   * ```ts
   * import { BytePattern } from "./content_scan.ts";
   * import assert from "node:assert/strict";
   * const p = new BytePattern(new Uint8Array([7, 7]));
   * assert.equal(p.indexIn(new Uint8Array([7, 7, 1, 7, 7]), 1), 3);
   * ```
   */
  indexIn(haystack: Uint8Array, from = 0): number {
    const needle = this.bytes;
    const skip = this.#skip;
    const m = needle.length;
    const lastByte = needle[m - 1];
    const end = haystack.length - m;
    let i = Math.max(0, from);
    while (i <= end) {
      const b = haystack[i + m - 1];
      if (b === lastByte) {
        let j = m - 2;
        while (j >= 0 && haystack[i + j] === needle[j]) j--;
        if (j < 0) return i;
      }
      i += skip[b];
    }
    return -1;
  }
}

const MARKERS: ReadonlyArray<readonly [Marker, BytePattern]> = CONTENT_MARKERS.map((
  { marker },
) => [marker, new BytePattern(MARKER_BYTES[marker])]);

// A marker that straddles chunks starts at most this many bytes before the
// new chunk, so this much of the past is all the search needs to remember.
const TAIL_BYTES = Math.max(...MARKERS.map(([, p]) => p.length)) - 1;

/**
 * Incremental digests and marker search over content fed in chunks of any
 * size. Memory stays constant whatever the total size.
 *
 * @example Digests of content fed in chunks
 * ```ts
 * import { ContentScanner } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 * const scanner = new ContentScanner();
 * for (const chunk of [new Uint8Array([97]), new Uint8Array([98, 99])]) scanner.update(chunk);
 * assert.equal(scanner.finish().md5, "900150983cd24fb0d6963f7d28e17f72");
 * ```
 */
export class ContentScanner {
  #hashes: Hash[] = [createHash("md5"), createHash("sha1"), createHash("sha256")];
  #size = 0;
  #found = new Set<Marker>();
  #tail = new Uint8Array(0);
  #facts: ContentFacts | null = null;

  /**
   * Adds the next chunk. The chunk is not retained, so the caller may reuse
   * its buffer as soon as this returns.
   *
   * @example Feed chunks of any size
   * ```ts
   * import { ContentScanner } from "./content_scan.ts";
   * import assert from "node:assert/strict";
   *
   * const scanner = new ContentScanner();
   * scanner.update(new Uint8Array(1024));
   * scanner.update(new Uint8Array(24));
   * assert.equal(scanner.finish().size, 1048);
   * ```
   */
  update(chunk: Uint8Array): void {
    if (this.#facts) throw new Error("ContentScanner: update() after finish()");
    if (chunk.length === 0) return;
    for (const h of this.#hashes) h.update(chunk);
    this.#size += chunk.length;
    if (this.#found.size === MARKERS.length) return;
    // Markers that straddle the previous chunks and this one end within the
    // first TAIL_BYTES of the chunk, so a small joined window finds them.
    const head = chunk.subarray(0, TAIL_BYTES);
    const window = new Uint8Array(this.#tail.length + head.length);
    window.set(this.#tail);
    window.set(head, this.#tail.length);
    if (this.#tail.length > 0) this.#search(window);
    this.#search(chunk);
    // slice(), not subarray(): the caller owns the chunk and may overwrite it.
    this.#tail = chunk.length >= TAIL_BYTES
      ? chunk.slice(chunk.length - TAIL_BYTES)
      : window.slice(Math.max(0, window.length - TAIL_BYTES));
  }

  /**
   * Ends the content and returns its facts. Later calls return the same facts.
   *
   * @example Nothing fed
   * ```ts
   * import { ContentScanner } from "./content_scan.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new ContentScanner().finish().size, 0);
   * ```
   */
  finish(): ContentFacts {
    if (!this.#facts) {
      const [md5, sha1, sha256] = this.#hashes.map((h) => h.digest("hex"));
      this.#facts = { md5, sha1, sha256, size: this.#size, markers: this.#found };
      this.#tail = new Uint8Array(0);
    }
    return { ...this.#facts, markers: new Set(this.#facts.markers) };
  }

  #search(bytes: Uint8Array): void {
    for (const [marker, pattern] of MARKERS) {
      if (!this.#found.has(marker) && pattern.indexIn(bytes) >= 0) this.#found.add(marker);
    }
  }
}

/**
 * Facts about content that is already in memory.
 *
 * @example The markers of a buffer
 * ```ts
 * import { scanBytes } from "./content_scan.ts";
 * import assert from "node:assert/strict";
 *
 * const facts = scanBytes(new TextEncoder().encode("TE-EMULATOR-UNSUPPORTED"));
 * assert.deepEqual([...facts.markers], ["unsupported"]);
 * ```
 */
export function scanBytes(bytes: Uint8Array): ContentFacts {
  const scanner = new ContentScanner();
  scanner.update(bytes);
  return scanner.finish();
}
