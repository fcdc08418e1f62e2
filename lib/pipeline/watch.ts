/**
 * The source of a watch-folder service (`--watch`): the input folder walked
 * again and again, each file taken once it has stood still — same size,
 * modification and change times — for `--settle` seconds, so a file copied
 * in slowly or written in two parts is scanned once, complete.
 *
 * A file is taken again only if it changes (a file left in place because it
 * changed while it was scanned is queued again once it has settled anew).
 * What is kept in memory follows the files present in the input folder, not
 * the files the service has ever seen: entries for names that are gone are
 * dropped at each pass.
 *
 * @module
 */

import { sleep } from "../util/sleep.ts";
import { walk, type WalkItem, type WalkOptions } from "./walk.ts";

/** Options of {@linkcode watch}. */
export interface WatchOptions extends WalkOptions {
  /** How long a file must stand still before it is taken, in ms. */
  settleMs: number;
  /** Time between passes over the folder, in ms; default half of `settleMs`, 250 ms to 5 s. */
  rescanMs?: number;
  /** Ends the watch (the stream closes). */
  signal?: AbortSignal;
  /** The clock, in ms; default `performance.now`. */
  now?: () => number;
}

/** What a file looks like now: a change to any of these restarts its settle time. */
function versionOf(item: WalkItem): string {
  if (item.kind !== "file") return `${item.kind}:${item.reason}`;
  return `${item.size}:${item.mtimeMs}:${item.ctimeMs ?? ""}`;
}

/** The state of one pass over the folder. */
class Watcher {
  /** Files not taken yet: their version and since when it has not changed. */
  readonly #settling = new Map<string, { version: string; since: number }>();
  /** Files taken: the version taken (taken again only when it changes). */
  readonly #taken = new Map<string, string>();

  constructor(readonly options: WatchOptions) {}

  #now(): number {
    return this.options.now?.() ?? performance.now();
  }

  /** One pass: yields the entries that have settled and were not taken in this version. */
  async *pass(): AsyncGenerator<WalkItem> {
    const present = new Set<string>();
    for await (const item of walk(this.options)) {
      present.add(item.path);
      const version = versionOf(item);
      if (this.#taken.get(item.path) === version) continue;
      const settling = this.#settling.get(item.path);
      const now = this.#now();
      if (!settling || settling.version !== version) {
        this.#settling.set(item.path, { version, since: now });
        if (item.kind !== "file" || this.options.settleMs > 0) continue;
      } else if (now - settling.since < this.options.settleMs) continue;
      this.#settling.delete(item.path);
      this.#taken.set(item.path, version);
      yield item;
    }
    for (const map of [this.#settling, this.#taken]) {
      for (const path of map.keys()) if (!present.has(path)) map.delete(path);
    }
  }

  /** Entries remembered (settling or taken): the watch's memory. */
  get size(): number {
    return this.#settling.size + this.#taken.size;
  }
}

/**
 * Watches `options.root` until `options.signal` aborts.
 *
 * @example A file written in two parts is taken once, whole
 * ```ts
 * import { watch } from "./watch.ts";
 * import assert from "node:assert/strict";
 *
 * const root = await Deno.makeTempDir();
 * const controller = new AbortController();
 * const items = watch({ root, settleMs: 200, rescanMs: 20, signal: controller.signal });
 * await Deno.writeTextFile(`${root}/a.txt`, "first half ");
 * const reader = items.getReader();
 * const append = () => Deno.writeTextFileSync(`${root}/a.txt`, "second half", { append: true });
 * setTimeout(append, 60);
 * const { value } = await reader.read();
 * assert.equal(value?.kind === "file" && value.size, "first half second half".length);
 * controller.abort();
 * await reader.cancel();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function watch(options: WatchOptions): ReadableStream<WalkItem> {
  const watcher = new Watcher(options);
  const rescanMs = options.rescanMs ?? Math.min(5_000, Math.max(250, options.settleMs / 2));
  return ReadableStream.from((async function* () {
    while (!options.signal?.aborted) {
      yield* watcher.pass();
      try {
        await sleep(rescanMs, options.signal);
      } catch {
        return;
      }
    }
  })());
}
