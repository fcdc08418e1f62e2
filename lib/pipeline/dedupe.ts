/**
 * Identical content is emulated once per run. The pipeline owns one
 * {@linkcode Dedupe}: its `hold` stage, before the cache query, lets the
 * first file of each content go on and holds the copies that arrive while
 * it is in flight; its `release` stage, after upload and poll, gives every
 * held copy the first one's answer as its own settled item (and its own
 * early quarantine), so the dispose sink sees one item per input file.
 *
 * Only contents in flight are kept, so memory follows the files in
 * emulation, not the size of the tree; a copy found after its twin settled
 * is answered by the appliance's cache.
 *
 * @module
 */

import { shareCleanedCopy } from "./clean.ts";
import { inherit } from "./final_state.ts";
import type { HashedFile, PipelineItem } from "./types.ts";
import { isHashed } from "./types.ts";

/**
 * The pair of stages and the groups between them.
 *
 * @example A copy waits for its twin and gets its outcome
 * ```ts
 * import { Dedupe } from "./dedupe.ts";
 * import type { HashedFile, PipelineItem } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * const file = (relPath: string): HashedFile => ({
 *   path: `/in/${relPath}`,
 *   relPath,
 *   size: 1,
 *   mtimeMs: 0,
 *   sha1: "s1",
 * });
 * const dedupe = new Dedupe();
 * const held = await Array.fromAsync(
 *   ReadableStream.from<PipelineItem>([
 *     { kind: "job", file: file("a"), startedAt: 0, needsUpload: false },
 *     { kind: "job", file: file("copy"), startedAt: 0, needsUpload: false },
 *   ]).pipeThrough(dedupe.hold()),
 * );
 * assert.equal(held.length, 1);
 * const released = await Array.fromAsync(
 *   ReadableStream.from<PipelineItem>([
 *     { kind: "settled", file: file("a"), outcome: { state: "benign" } },
 *   ]).pipeThrough(dedupe.release()),
 * );
 * assert.deepEqual(released.map((i) => i.file.relPath), ["a", "copy"]);
 * assert.equal(released[1].kind === "settled" && released[1].duplicateOf, "a");
 * assert.equal(dedupe.size, 0);
 * ```
 */
export class Dedupe {
  /** sha1 → the first file of that content and the copies waiting on it. */
  readonly #groups = new Map<string, { first: string; copies: HashedFile[] }>();

  /** Contents in flight. */
  get size(): number {
    return this.#groups.size;
  }

  /** True when `file` is the first of its content (it goes on); false when it waits. */
  claim(file: HashedFile): boolean {
    const group = this.#groups.get(file.sha1);
    if (group) {
      group.copies.push(file);
      return false;
    }
    this.#groups.set(file.sha1, { first: file.path, copies: [] });
    return true;
  }

  /** Passes on the first file of each content and holds its copies. */
  hold(): TransformStream<PipelineItem, PipelineItem> {
    return new TransformStream({
      transform: (item, controller) => {
        if (item.kind !== "job" || this.claim(item.file)) controller.enqueue(item);
      },
    });
  }

  /** After the first file's answer, passes on one item per held copy as well. */
  release(): TransformStream<PipelineItem, PipelineItem> {
    return new TransformStream({
      transform: (item, controller) => {
        controller.enqueue(item);
        if (item.kind === "job" || !isHashed(item.file)) return;
        const group = this.#groups.get(item.file.sha1);
        if (!group || group.first !== item.file.path) return;
        const duplicateOf = item.file.relPath;
        if (item.kind === "early") {
          for (const copy of group.copies) controller.enqueue({ ...item, file: copy });
          return;
        }
        this.#groups.delete(item.file.sha1);
        // Every copy publishes its own cleaned copy (gateway, --extract) from the one answer.
        if (item.outcome.scrub) shareCleanedCopy(item.outcome.scrub, group.copies.length);
        for (const copy of group.copies) {
          const outcome = inherit(item.outcome);
          controller.enqueue({ kind: "settled", file: copy, outcome, duplicateOf });
        }
      },
    });
  }
}
