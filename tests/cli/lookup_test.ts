import assert from "node:assert/strict";
import { requestForHash } from "../../lib/cli/lookup.ts";

Deno.test("query: a hash is sent under the digest its length names", () => {
  assert.deepEqual(requestForHash("D41D8CD98F00B204E9800998ECF8427E", ["te"]), {
    md5: "d41d8cd98f00b204e9800998ecf8427e",
    features: ["te"],
    te: { reports: [], return_errors: true, version_info: true },
  });
  assert.ok("sha1" in requestForHash("a".repeat(40), ["te"]));
  assert.ok("sha256" in requestForHash("b".repeat(64), ["te"]));
  assert.throws(() => requestForHash("xyz", ["te"]), /not an md5, sha1 or sha256 hash: "xyz"/);
  assert.throws(() => requestForHash("g".repeat(40), ["te"]), /not an md5/);
});
