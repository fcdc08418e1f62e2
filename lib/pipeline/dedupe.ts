/**
 * The dedupe stage: identical content is emulated once per run.
 *
 * The first file with a given sha1 goes on; copies that arrive while it is
 * in flight wait in the {@linkcode DedupeIndex} and the dispose sink gives
 * them the first one's outcome. Only in-flight groups are kept, so memory
 * follows the files in emulation, not the size of the tree; a copy found
 * after its twin settled is answered by the appliance's cache.
 *
 * @example
 * ```ts
 * import { DedupeIndex, dedupeStage } from "./dedupe.ts";
 * const index = new DedupeIndex();
 * const stage = dedupeStage(index); // pipe jobs through it
 * ```
 * @module
 */

import type { HashedFile, PipelineItem } from "./types.ts";

/**
 * Groups of files with the same content, keyed by sha1.
 *
 * @example
 * ```ts
 * import { DedupeIndex } from "./dedupe.ts";
 * const index = new DedupeIndex();
 * const a = { path: "/in/a", relPath: "a", size: 1, mtimeMs: 0, md5: "m", sha1: "s" };
 * index.claim(a); // true: a is emulated
 * index.claim({ ...a, path: "/in/b", relPath: "b" }); // false: b waits for a
 * index.release("s").length; // 1
 * ```
 */
export class DedupeIndex {
  readonly #groups = new Map<string, HashedFile[]>();

  /** True when `file` is the first of its content (it goes on); false when it waits. */
  claim(file: HashedFile): boolean {
    const copies = this.#groups.get(file.sha1);
    if (copies) {
      copies.push(file);
      return false;
    }
    this.#groups.set(file.sha1, []);
    return true;
  }

  /** The copies waiting on `sha1`, without releasing them. */
  copies(sha1: string): readonly HashedFile[] {
    return this.#groups.get(sha1) ?? [];
  }

  /** Ends the group: returns the waiting copies, which now share the outcome. */
  release(sha1: string): HashedFile[] {
    const copies = this.#groups.get(sha1) ?? [];
    this.#groups.delete(sha1);
    return copies;
  }

  /** Number of contents in flight. */
  get size(): number {
    return this.#groups.size;
  }
}

/**
 * The stage: passes on the first file of each content, holds the copies.
 *
 * @example
 * ```ts
 * import { DedupeIndex, dedupeStage } from "./dedupe.ts";
 * const stage = dedupeStage(new DedupeIndex());
 * ```
 */
export function dedupeStage(index: DedupeIndex): TransformStream<PipelineItem, PipelineItem> {
  return new TransformStream({
    transform(item, controller) {
      if (item.kind !== "job" || index.claim(item.file)) controller.enqueue(item);
    },
  });
}
