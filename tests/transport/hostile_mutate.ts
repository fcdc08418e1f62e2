/**
 * Seeded randomness and JSON mutations for the randomized-answer test: the
 * ways a broken or hostile appliance can bend a real answer's shape (fields
 * removed, wrong types, extra fields, swapped status codes, arrays for
 * objects, empty arrays, huge numbers, nested nulls, deep nesting).
 *
 * Kept apart from the answer logic so each piece stays small, and so a
 * failing case can be read: every mutation names itself in the transcript.
 *
 * @module
 */

import { seededRandom } from "../../lib/emulator/mod.ts";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** A path into a JSON value. */
type Path = (string | number)[];

/** FNV-1a over a string: the seed of one answer's generator. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A seeded generator with the few draws the test needs. */
export class Rng {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }

  /** A generator for one decision, from the seed and what it is about. */
  static of(...parts: (string | number)[]): Rng {
    return new Rng(fnv1a(parts.join("|")));
  }

  float(): number {
    return this.#next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }

  chance(p: number): boolean {
    return this.#next() < p;
  }

  /** `n` seeded bytes. */
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  /** A key of `table`, drawn with the table's weights. */
  weighted<K extends string>(table: Readonly<Record<K, number>>): K {
    const entries = Object.entries(table) as [K, number][];
    let left = this.float() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, weight] of entries) {
      left -= weight;
      if (left < 0) return key;
    }
    return entries[entries.length - 1][0];
  }
}

/** A deep copy of a JSON value. */
export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

/** Whether a JSON value is an object (not an array, not null). */
export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function allPaths(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((element, i) => {
      out.push([...prefix, i]);
      allPaths(element, [...prefix, i], out);
    });
  } else if (isObject(value)) {
    for (const [key, element] of Object.entries(value)) {
      out.push([...prefix, key]);
      allPaths(element, [...prefix, key], out);
    }
  }
  return out;
}

function parentOf(root: Json, path: Path): Json {
  let node = root;
  for (const key of path.slice(0, -1)) {
    node = (node as Record<string | number, Json>)[key];
  }
  return node;
}

function getAt(root: Json, path: Path): Json {
  const parent = parentOf(root, path) as Record<string | number, Json>;
  return parent[path[path.length - 1]];
}

function setAt(root: Json, path: Path, value: Json): void {
  const parent = parentOf(root, path) as Record<string | number, Json>;
  parent[path[path.length - 1]] = value;
}

function deleteAt(root: Json, path: Path): void {
  const parent = parentOf(root, path);
  const key = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete (parent as JsonObject)[key];
}

/** Written as `1e999` on the wire (JSON.parse reads Infinity; JSON.stringify cannot write it). */
export const HUGE_SENTINEL = "__TE_HUGE__";
const DEEP_SENTINEL = (depth: number) => `__TE_DEEP_${depth}__`;

/**
 * JSON text of a value, with the sentinels turned into what JSON.stringify
 * cannot write: `1e999`, and arrays nested thousands deep.
 */
export function wireText(value: Json): string {
  return JSON.stringify(value)
    .replaceAll(`"${HUGE_SENTINEL}"`, "1e999")
    .replace(/"__TE_DEEP_(\d+)__"/g, (_, depth) => "[".repeat(+depth) + "]".repeat(+depth));
}

const OTHER_TYPES: Json[] = [42, -1, "1001", "FOUND", true, false, null, [], {}, ["x"], {
  code: 1001,
}];
const HUGE_NUMBERS: Json[] = [
  1e308,
  -1e308,
  2 ** 53 + 2,
  -(2 ** 63),
  1e-320,
  HUGE_SENTINEL,
];
/** Codes an answer may carry: the table, unknown ones, and non-integers. */
export const ANY_CODES: readonly number[] = [
  1001,
  1002,
  1003,
  1004,
  1005,
  1006,
  1007,
  1008,
  1009,
  1010,
  1011,
  0,
  -1,
  200,
  4242,
  1001.5,
];
const LABELS = ["FOUND", "PENDING", "NOT_FOUND", "UPLOAD_SUCCESS", "PARTIALLY_FOUND", "", "??"];
const EXTRA_KEYS = ["verdict", "extra", "__proto__", "constructor", "te_eb", "av", "x".repeat(300)];

function extraValue(rng: Rng): Json {
  switch (rng.int(6)) {
    case 0:
      return DEEP_SENTINEL(rng.pick([50, 2_000, 20_000]));
    case 1:
      return "\u0000\u001b[31m<script>" + "y".repeat(rng.int(100_000));
    case 2:
      return { status: { code: 1001, label: "FOUND" }, combined_verdict: "benign" };
    case 3:
      return rng.pick(HUGE_NUMBERS);
    case 4:
      return [null, { a: [null] }];
    default:
      return null;
  }
}

type Mutation = (item: JsonObject, rng: Rng) => string | undefined;

function randomPath(item: JsonObject, rng: Rng, keep: (value: Json) => boolean): Path | undefined {
  const paths = allPaths(item).filter((path) => keep(getAt(item, path)));
  return paths.length ? rng.pick(paths) : undefined;
}

function statusPaths(item: JsonObject): Path[] {
  return allPaths(item).filter((p) => p[p.length - 1] === "status" && isObject(getAt(item, p)));
}

/** Every mutation, by name. Each returns what it did, or undefined when it found nothing to do. */
export const MUTATIONS: Readonly<Record<string, Mutation>> = {
  remove(item, rng) {
    const path = randomPath(item, rng, () => true);
    if (!path) return;
    deleteAt(item, path);
    return `removed ${path.join(".")}`;
  },
  retype(item, rng) {
    const path = randomPath(item, rng, () => true);
    if (!path) return;
    const was = JSON.stringify(getAt(item, path));
    const value = rng.pick(OTHER_TYPES.filter((v) => JSON.stringify(v) !== was));
    setAt(item, path, clone(value));
    return `${path.join(".")} = ${JSON.stringify(value)}`;
  },
  extra(item, rng) {
    const path = randomPath(item, rng, (value) => isObject(value));
    const target = path ? getAt(item, path) as JsonObject : item;
    const key = rng.pick(EXTRA_KEYS);
    Object.defineProperty(target, key, {
      value: extraValue(rng),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return `extra ${(path ?? []).join(".")}.${key.slice(0, 12)}`;
  },
  status(item, rng) {
    const paths = statusPaths(item);
    if (!paths.length) return;
    const path = rng.pick(paths);
    const code = rng.pick(ANY_CODES);
    setAt(item, path, { code, label: rng.pick(LABELS), message: "swapped" });
    return `${path.join(".")}.code = ${code}`;
  },
  shape(item, rng) {
    const path = randomPath(item, rng, (value) => typeof value === "object" && value !== null);
    if (!path) return;
    const value = getAt(item, path);
    setAt(item, path, Array.isArray(value) ? (value[0] ?? {}) : [value]);
    return `${path.join(".")} ${Array.isArray(value) ? "array → element" : "object → [object]"}`;
  },
  empty(item, rng) {
    const path = randomPath(item, rng, (value) => Array.isArray(value));
    if (!path) return;
    setAt(item, path, []);
    return `${path.join(".")} = []`;
  },
  huge(item, rng) {
    const path = randomPath(item, rng, (value) => typeof value === "number");
    if (!path) return;
    const value = rng.pick(HUGE_NUMBERS);
    setAt(item, path, value);
    return `${path.join(".")} = ${value === HUGE_SENTINEL ? "1e999" : value}`;
  },
  nulls(item, rng) {
    const path = randomPath(item, rng, () => true);
    if (!path) return;
    setAt(item, path, null);
    return `${path.join(".")} = null`;
  },
};

/** Applies up to `most` random mutations; returns what each did. */
export function mutate(item: JsonObject, rng: Rng, most: number): string[] {
  const done: string[] = [];
  const count = rng.int(most + 1);
  for (let i = 0; i < count; i++) {
    const name = rng.pick(Object.keys(MUTATIONS));
    const what = MUTATIONS[name](item, rng);
    if (what) done.push(what);
  }
  return done;
}
