import assert from "node:assert/strict";
import { CloudClient } from "../../lib/transport/cloud_client.ts";
import { CloudTransport } from "../../lib/transport/cloud.ts";
import { HttpClient } from "../../lib/transport/http.ts";
import { CA_FILE, withEmulator } from "../helpers.ts";

function sha1Of(n: number): string {
  return n.toString(16).padStart(40, "a");
}

Deno.test("a query for N files is one HTTPS request per batch, every answer matched by digest", async () => {
  await withEmulator({}, async (emulator) => {
    const http = new HttpClient(emulator.url, {
      trust: { kind: "ca", caPem: [await Deno.readTextFile(CA_FILE)] },
    });
    const target = new CloudTransport(new CloudClient(http), {
      features: ["te"],
      reports: ["summary"],
      batchSize: 100,
      md5: false,
    });
    try {
      const files = Array.from({ length: 250 }, (_, n) => ({ sha1: sha1Of(n) }));
      const before = emulator.stats();
      const answers = await target.query(files);
      const after = emulator.stats();
      assert.equal(after.queries - before.queries, 3, "⌈250/100⌉ requests");
      assert.equal(after.http_requests - before.http_requests, 3);
      assert.equal(after.query_items - before.query_items, 250);
      assert.deepEqual(answers.map((a) => a.item?.sha1), files.map((f) => f.sha1));
      assert.ok(answers.every((a) => a.item?.status.label === "NOT_FOUND"));
    } finally {
      target.close();
    }
  });
});
