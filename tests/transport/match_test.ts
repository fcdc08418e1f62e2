import assert from "node:assert/strict";
import { matchAnswers, relation } from "../../lib/transport/match.ts";

const FOUND = { code: 1001, label: "FOUND" };

Deno.test("an answer is applied only to the file its digests name", () => {
  const f6 = { sha1: "c587bb84aa", md5: "5c1a784daa" };
  // The randomized-server case: FOUND benign, carrying another file's md5 and no sha1.
  const [answer] = matchAnswers([f6], [{ status: FOUND, md5: "ae19686caa" }]);
  assert.equal(answer.item, undefined);
  assert.match(answer.missing ?? "", /about other content \(md5 ae19686caa…\)/);
});

Deno.test("every digest both sides carry must agree; case does not matter", () => {
  const file = { sha1: "aa11", md5: "bb22" };
  assert.equal(relation({ status: FOUND, sha1: "AA11", md5: "BB22" }, file), "same");
  assert.equal(relation({ status: FOUND, sha1: "aa11", md5: "ffff" }, file), "other");
  assert.equal(relation({ status: FOUND, sha256: "cc33" }, file), "other", "only a digest we lack");
  assert.equal(relation({ status: FOUND, sha1: "", md5: "" }, file), "silent", "empty strings");
});

Deno.test("position is trusted only for one silent item answering a one-file request", () => {
  const silent = { status: FOUND };
  assert.equal(matchAnswers([{ sha1: "aa" }], [silent])[0].item, silent);
  const two = matchAnswers([{ sha1: "aa" }, { sha1: "bb" }], [silent, silent]);
  assert.deepEqual(two.map((a) => a.item), [undefined, undefined]);
});

Deno.test("a batch answered out of order is matched back by digest", () => {
  const files = Array.from({ length: 50 }, (_, i) => ({ sha1: `s${i}`, md5: `m${i}` }));
  const items = files.map((f) => ({ status: FOUND, md5: f.md5!.toUpperCase() })).reverse();
  const answers = matchAnswers(files, items);
  for (const [i, answer] of answers.entries()) assert.equal(answer.item?.md5, `M${i}`);
});
