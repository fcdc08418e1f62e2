/**
 * Which answer is about which file. A verdict belongs to the bytes that were
 * scanned, so an answer item is applied to a file only when its digests say
 * it is about that file: at least one digest the item carries equals the
 * file's, and none that both carry differs (compared without case). Every
 * file has both sha1 and md5 (hashed in one pass), so an item naming the
 * right sha1 next to a wrong md5 is refused, with or without `av`. An item
 * that names other content is never applied, whatever its position.
 *
 * Matching by position is kept for one case only: a request about a single
 * file answered by a single item that echoes no digest at all (some minimal
 * servers do that).
 *
 * @module
 */

import type { ResponseItem } from "./protocol.ts";
import type { FileDigests, MatchedAnswer } from "./transport.ts";

const DIGESTS = ["sha1", "md5", "sha256"] as const;

function digestsOf(item: ResponseItem): Partial<Record<typeof DIGESTS[number], string>> {
  const found: Partial<Record<typeof DIGESTS[number], string>> = {};
  for (const key of DIGESTS) {
    const value = item[key];
    if (typeof value === "string" && value !== "") found[key] = value.toLowerCase();
  }
  return found;
}

/**
 * How an answer item relates to a file: `same` (a digest matches and none
 * differs), `other` (it names other content) or `silent` (it echoes no digest).
 *
 * @example An item echoing another file's md5
 * ```ts
 * import { relation } from "./match.ts";
 * import assert from "node:assert/strict";
 *
 * const status = { code: 1001, label: "FOUND" };
 * const file = { sha1: "c587bb84", md5: "5c1a784d" };
 * assert.equal(relation({ status, md5: "AE19686C" }, file), "other");
 * assert.equal(relation({ status, sha1: "C587BB84" }, file), "same");
 * assert.equal(relation({ status }, file), "silent");
 * ```
 */
export function relation(item: ResponseItem, file: FileDigests): "same" | "other" | "silent" {
  const echoed = digestsOf(item);
  let matched = false;
  let carried = false;
  for (const key of DIGESTS) {
    const theirs = echoed[key];
    if (theirs === undefined) continue;
    carried = true;
    const ours = file[key]?.toLowerCase();
    if (ours === undefined) continue;
    if (ours !== theirs) return "other";
    matched = true;
  }
  if (matched) return "same";
  return carried ? "other" : "silent";
}

function short(item: ResponseItem): string {
  const echoed = digestsOf(item);
  const [key, value] = Object.entries(echoed)[0] ?? ["digest", "?"];
  return `${key} ${value.slice(0, 12)}…`;
}

/**
 * Matches the items of one answer to the files of its request, in the
 * files' order.
 *
 * @example A batch answered out of order, one item about other content
 * ```ts
 * import { matchAnswers } from "./match.ts";
 * import assert from "node:assert/strict";
 *
 * const status = { code: 1001, label: "FOUND" };
 * const files = [{ sha1: "aa" }, { sha1: "bb" }, { sha1: "cc" }];
 * const answers = matchAnswers(files, [
 *   { status, sha1: "BB" },
 *   { status, sha1: "aa" },
 *   { status, sha1: "ff" },
 * ]);
 * assert.equal(answers[0].item?.sha1, "aa");
 * assert.equal(answers[1].item?.sha1, "BB");
 * assert.match(answers[2].missing ?? "", /no answer about this file/);
 * ```
 */
export function matchAnswers(
  files: readonly FileDigests[],
  items: readonly ResponseItem[],
): MatchedAnswer[] {
  // Indexed by every digest an item echoes: a batch of hundreds stays linear.
  const byDigest = new Map<string, ResponseItem[]>();
  for (const item of items) {
    for (const value of Object.values(digestsOf(item))) {
      const list = byDigest.get(value);
      if (list) list.push(item);
      else byDigest.set(value, [item]);
    }
  }
  return files.map((file) => {
    for (const key of DIGESTS) {
      const ours = file[key]?.toLowerCase();
      const candidates = ours ? byDigest.get(ours) : undefined;
      const same = candidates?.find((item) => relation(item, file) === "same");
      if (same) return { item: same };
    }
    if (files.length === 1 && items.length === 1) {
      const how = relation(items[0], file);
      if (how === "silent") return { item: items[0] };
      return { missing: `the answer was about other content (${short(items[0])})` };
    }
    return { missing: `no answer about this file among ${items.length}` };
  });
}

/**
 * Asks about `files` in batches of `batchSize` (one request each, through
 * `ask`) and matches each batch's items to its files, in the files' order.
 *
 * @example Three files in batches of two
 * ```ts
 * import { queryInBatches } from "./match.ts";
 * import assert from "node:assert/strict";
 *
 * const status = { code: 1004, label: "NOT_FOUND" };
 * const sizes: number[] = [];
 * const files = [{ sha1: "a" }, { sha1: "b" }, { sha1: "c" }];
 * const answers = await queryInBatches(files, 2, (batch) => {
 *   sizes.push(batch.length);
 *   return Promise.resolve(batch.map((file) => ({ status, sha1: file.sha1 })));
 * });
 * assert.deepEqual(sizes, [2, 1]);
 * assert.deepEqual(answers.map((a) => a.item?.sha1), ["a", "b", "c"]);
 * ```
 */
export async function queryInBatches(
  files: readonly FileDigests[],
  batchSize: number,
  ask: (batch: readonly FileDigests[]) => Promise<readonly ResponseItem[]>,
): Promise<MatchedAnswer[]> {
  const answers: MatchedAnswer[] = [];
  for (let start = 0; start < files.length; start += batchSize) {
    const batch = files.slice(start, start + batchSize);
    answers.push(...matchAnswers(batch, await ask(batch)));
  }
  return answers;
}
