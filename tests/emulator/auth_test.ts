import assert from "node:assert/strict";
import { parseQuotaBody, parseResponseBody } from "../../lib/transport/protocol.ts";
import { cloudAuthorized, keysEqual } from "../../lib/emulator/auth.ts";
import { WRONG_KEY } from "../../lib/emulator/tpapi.ts";
import { marked, withEmulator } from "./helpers.ts";

const MD5 = "0123456789abcdef0123456789abcdef";

Deno.test("keysEqual and cloudAuthorized compare exactly", () => {
  assert.ok(keysEqual("k-1", "k-1"));
  assert.ok(!keysEqual("k-1", "k-2"));
  assert.ok(!keysEqual("", "k"));
  assert.ok(cloudAuthorized(new Headers({ authorization: "abc" }), "abc"));
  assert.ok(cloudAuthorized(new Headers({ "x-access-token": "abc" }), "abc"));
  assert.ok(!cloudAuthorized(new Headers({ authorization: "Bearer abc" }), "abc"));
  assert.ok(!cloudAuthorized(new Headers(), "abc"));
  assert.ok(cloudAuthorized(new Headers(), undefined));
});

Deno.test("with an API key, the cloud format answers 403 without it and 200 with it", async () => {
  await withEmulator({ mode: "cloud", apiKey: "s3cret" }, async (h) => {
    const none = await h.queryRaw([{ md5: MD5 }]);
    assert.equal(none.status, 403);
    const status = (none.json as { response: { status: { code: number; label: string } } })
      .response.status;
    assert.deepEqual([status.code, status.label], [1010, "FORBIDDEN"]);
    const wrong = await h.queryRaw([{ md5: MD5 }], { authorization: "s3cret-not" });
    assert.equal(wrong.status, 403);
    const upload = await h.uploadRaw("x", {}, {}, { authorization: "nope" });
    assert.equal(upload.status, 403);
    const download = await h.fetch("/tecloud/api/v1/file/download?id=x");
    assert.equal(download.status, 403);
    const good = await h.queryRaw([{ md5: MD5 }], { authorization: "s3cret" });
    assert.equal(good.status, 200);
    assert.equal(parseResponseBody(good.json, "answer").items[0].status.code, 1004);
    const token = await h.queryRaw([{ md5: MD5 }], { "x-access-token": "s3cret" });
    assert.equal(token.status, 200);
    const okUpload = await h.uploadRaw("x", {}, {}, { authorization: "s3cret" });
    assert.equal(okUpload.status, 200);
    const stats = await h.stats();
    assert.equal(stats.auth_failures, 4);
    assert.equal(stats.queries, 2, "refused requests are not served");
  });
});

Deno.test("quota: uploads use it up, then 1005 NO_QUOTA; /quota reflects it", async () => {
  await withEmulator({ mode: "cloud", quota: 2, emulationMs: 0 }, async (h) => {
    const quota = async () => {
      const r = await h.fetch("/tecloud/api/v1/file/quota", { method: "POST", body: "{}" });
      assert.equal(r.status, 200);
      assert.ok(Array.isArray((r.json as { response: unknown }).response), "array of one");
      return parseQuotaBody(r.json);
    };
    const before = await quota();
    assert.equal(before.remain_quota_hour, 2);
    assert.equal(before.assigned_quota_month, 2);
    assert.equal(before.action, "ALLOW");
    const first = await h.upload("quota one");
    assert.equal(first.status.code, 1002);
    assert.equal((await h.upload("quota two")).status.code, 1002);
    const refused = await h.upload("quota three");
    assert.equal(refused.status.code, 1005);
    assert.equal(refused.status.label, "NO_QUOTA");
    assert.equal(refused.te?.status.code, 1005);
    const unknown = await h.query({ md5: MD5 });
    assert.equal(unknown.status.code, 1005, "unknown files cannot be uploaded, so 1005");
    const known = await h.query({ md5: first.md5 });
    assert.equal(known.status.code, 1001, "known files are still answered");
    const again = await h.upload("quota one");
    assert.equal(again.status.code, 1001, "a cached file costs no quota");
    const after = await quota();
    assert.equal(after.remain_quota_hour, 0);
    assert.equal(after.action, "BLOCK");
    const byGet = await h.fetch("/tecloud/api/v1/file/quota");
    assert.equal(byGet.status, 200);
    assert.equal((await h.stats()).quota_requests, 3);
  });
});

Deno.test("appliance mode has no quota API", async () => {
  await withEmulator({}, async (h) => {
    const r = await h.fetch("/tecloud/api/v1/file/quota", { method: "POST" });
    assert.equal(r.status, 404);
  });
});

Deno.test("appliance mode: the key guards TPAPI only; cloud-format routes take none", async () => {
  const key = "gw-s3cret-key";
  await withEmulator({ apiKey: key, emulationMs: 0 }, async (h) => {
    const up = await h.uploadRaw(marked("MALICIOUS", "appliance-auth"), {
      te: { reports: ["summary"] },
    });
    assert.equal(up.status, 200, "upload without Authorization");
    const md5 = parseResponseBody(up.json, "upload").items[0].md5!;
    const query = await h.queryRaw([{ md5, te: { reports: ["summary"] } }]);
    assert.equal(query.status, 200, "query without Authorization");
    const id = parseResponseBody(query.json, "query").items[0].te?.summary_report;
    assert.ok(id);
    const report = await h.download(id);
    assert.equal(report.status, 200, "a report downloads with no key, as from a gateway's 18194");
    const tpapi = (apiKey?: string) => ({
      protocol_version: "1.1",
      request_name: "QueryFile",
      md5,
      ...(apiKey === undefined ? {} : { api_key: apiKey }),
    });
    const { reply, items } = await h.tpapi([tpapi(key), tpapi("wrong-key"), tpapi(), tpapi(key)]);
    assert.equal(reply.status, 200);
    assert.deepEqual(items.map((i) => i.te?.status.code), [1001, 1010, 1010, 1001]);
    for (const refused of [items[1], items[2]]) {
      assert.equal(refused.te?.status.label, "FORBIDDEN");
      assert.equal(refused.te?.status.message, WRONG_KEY);
      assert.equal(refused.te?.te?.status.code, 1010);
      assert.equal(refused.protocol_version, "1.1");
    }
    assert.ok(!reply.text.includes(key) && !reply.text.includes("wrong-key"), "no key echoed");
    const stats = await h.stats();
    assert.equal(stats.auth_failures, 2);
  });
});

Deno.test("a wrong api_key is refused before the request object is checked", async () => {
  await withEmulator({ apiKey: "k" }, async (h) => {
    const { items } = await h.tpapi([
      { protocol_version: "9", api_key: "x", request_name: "Nonsense" },
      { protocol_version: "9", api_key: "k", request_name: "Nonsense" },
    ]);
    assert.deepEqual(items.map((i) => i.te?.status.code), [1010, 1008]);
  });
});

Deno.test("cloud mode: the key is required on the cloud format and in TPAPI", async () => {
  await withEmulator({ mode: "cloud", apiKey: "k" }, async (h) => {
    assert.equal((await h.queryRaw([{ md5: MD5 }])).status, 403);
    const base = { protocol_version: "1.1", request_name: "QueryFile", md5: MD5 };
    const { items } = await h.tpapi([{ ...base, api_key: "k" }, { ...base, api_key: "no" }]);
    assert.deepEqual(items.map((i) => i.te?.status.code), [1004, 1010]);
  });
});
