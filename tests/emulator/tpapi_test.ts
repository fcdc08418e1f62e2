import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { scrubResultInfo } from "../../lib/transport/tpapi_types.ts";
import { eicarText } from "../../lib/emulator/eicar.ts";
import { gunzip, listTar, marked, withEmulator } from "./helpers.ts";

const ENCODER = new TextEncoder();
const b64 = (text: string) => ENCODER.encode(text).toBase64();
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

function upload(content: string, extra: Record<string, unknown> = {}) {
  return {
    protocol_version: "1.1",
    api_key: "gw-key",
    request_name: "UploadFile",
    file_orig_name: "report.docx",
    file_enc_data: b64(content),
    ...extra,
  };
}

function query(extra: Record<string, unknown>): Record<string, unknown> {
  return { protocol_version: "1.1", api_key: "gw-key", request_name: "QueryFile", ...extra };
}

Deno.test("TPAPI UploadFile registers the sample; QueryFile and cloud find it", async () => {
  await withEmulator({ emulationMs: 0, earlyMs: 0 }, async (h) => {
    const content = marked("MALICIOUS", "tpapi");
    const { items } = await h.tpapi([upload(content, {
      te_options: {
        file_name: "report.docx",
        file_type: "docx",
        is_base64: true,
        features: ["te", "te_eb", "av"],
        te: { reports: ["summary"] },
      },
    })]);
    assert.equal(items.length, 1);
    const [item] = items;
    assert.equal(item.protocol_version, "1.1");
    assert.equal(item.src_ip, "127.0.0.1");
    assert.equal(item.scrub, undefined, "no scrub without scrub_options");
    assert.equal(item.te?.status.code, 1002);
    assert.equal(item.te?.te?.status.code, 1002);
    assert.equal(item.te?.sha1, sha1(content));
    assert.equal(item.te?.file_name, "report.docx");
    const { items: [answer] } = await h.tpapi([query({
      md5: item.te?.md5,
      sha1: "",
      features: ["te", "te_eb", "av"],
      te: { reports: ["summary"] },
    })]);
    assert.equal(answer.te?.status.code, 1001);
    assert.equal(answer.te?.te?.combined_verdict, "Malicious");
    assert.equal(answer.te?.te_eb?.combined_verdict, "Malicious");
    assert.equal(answer.te?.av?.malware_info?.signature_name, "", "AV has no signature for it");
    assert.ok(answer.te?.te?.summary_report);
    const cloud = await h.query({ sha1: sha1(content) });
    assert.equal(cloud.status.code, 1001, "the cloud format sees TPAPI uploads");
    const stats = await h.stats();
    assert.equal(stats.tpapi_requests, 2);
    assert.equal(stats.tpapi_items, 2);
  });
});

Deno.test("TPAPI answers an object for an object, an array for an array", async () => {
  await withEmulator({}, async (h) => {
    const object = await h.postJson("/UserCheck/TPAPI", {
      request: query({ md5: "0".repeat(32) }),
    });
    assert.ok(!Array.isArray((object.json as { response: unknown }).response));
    const { items } = await h.tpapi([
      query({ md5: "0".repeat(32) }),
      { protocol_version: "1.1", api_key: "k", request_name: "Teleport" },
      query({ sha256: "f".repeat(64) }),
    ]);
    assert.deepEqual(items.map((i) => i.te?.status.code), [1004, 1008, 1004]);
    assert.match(items[1].te?.status.message ?? "", /request_name/);
  });
});

Deno.test("TPAPI bad items answer 1008 with a reason; the others are served", async () => {
  await withEmulator({}, async (h) => {
    const { items } = await h.tpapi([
      upload("x", { file_enc_data: "***not base64***", te_options: {} }),
      query({}),
      { ...query({ md5: "0".repeat(32) }), protocol_version: "1.0" },
      upload("x", { scrub_options: { scrub_method: 0 } }),
      upload("x"),
      "not an object",
      query({ md5: "0".repeat(32) }),
    ]);
    const codes = items.map((i) => i.te?.status.code);
    assert.deepEqual(codes, [1008, 1008, 1008, 1008, 1008, 1008, 1004]);
    const messages = items.map((i) => i.te?.status.message ?? "");
    assert.match(messages[0], /not valid base64/);
    assert.match(messages[1], /md5, sha1 or sha256/);
    assert.match(messages[2], /protocol_version/);
    assert.match(messages[3], /profile_name/);
    assert.match(messages[4], /te_options or scrub_options/);
    assert.equal((await h.stats()).bad_requests, 6);
    const broken = await h.postJson("/UserCheck/TPAPI", "{nope");
    assert.equal(broken.status, 400);
  });
});

Deno.test("TPAPI with an API key: a wrong or missing api_key answers 1010", async () => {
  await withEmulator({ apiKey: "gw-key" }, async (h) => {
    const { items } = await h.tpapi([
      query({ md5: "0".repeat(32) }),
      { ...query({ md5: "0".repeat(32) }), api_key: "wrong" },
      { protocol_version: "1.1", request_name: "QueryFile", md5: "0".repeat(32) },
    ]);
    assert.deepEqual(items.map((i) => i.te?.status.code), [1004, 1010, 1010]);
    assert.equal(items[1].te?.status.label, "FORBIDDEN");
    assert.equal(items[1].te?.te?.status.code, 1010);
    assert.equal((await h.stats()).auth_failures, 2);
  });
});

Deno.test("scrub method 2 converts to PDF", async () => {
  await withEmulator({}, async (h) => {
    const { items: [item] } = await h.tpapi([
      upload("hello", { file_orig_name: "hi.txt", scrub_options: { scrub_method: 2 } }),
    ]);
    const scrub = item.scrub!;
    assert.equal(scrub.scrub_result, 0);
    assert.equal(scrub.message, "OK");
    assert.equal(scrub.output_file_name, "hi.cleaned.pdf");
    assert.equal(scrub.protection_type, "Conversion to PDF");
    assert.equal(scrub.scrub_method, "Convert to PDF");
    assert.equal(scrub.scrub_activity, "TXT file was converted to PDF");
    assert.equal(scrub.real_extension, "txt");
    const pdf = new TextDecoder().decode(Uint8Array.fromBase64(scrub.file_enc_data!));
    assert.ok(pdf.startsWith("%PDF-"));
    assert.equal(item.te, undefined, "no te answer without te_options");
  });
});

Deno.test("scrub method 1: removed (0), nothing to clean (4), encrypted (7)", async () => {
  await withEmulator({}, async (h) => {
    const active = marked("ACTIVE-CONTENT", "scrub");
    const { items } = await h.tpapi([
      upload(active, {
        scrub_options: { scrub_method: 1, scrubbed_parts_codes: [1026, 1019, 4242] },
      }),
      upload("plain text", { scrub_options: { scrub_method: 1 } }),
      upload(marked("ENCRYPTED", "scrub"), { scrub_options: { scrub_method: 1 } }),
      upload(active, { scrub_options: { scrub_method: 0, profile_name: "Recommended_Profile" } }),
    ]);
    const [cleaned, skipped, encrypted, byProfile] = items.map((i) => i.scrub!);
    assert.equal(cleaned.scrub_result, 0);
    assert.equal(cleaned.protection_type, "Content Removal");
    assert.equal(cleaned.scrub_method, "Clean Document");
    assert.equal(cleaned.output_file_name, "report.cleaned.docx");
    assert.equal(cleaned.scrubbed_content, "Macros And Code, Embedded Objects");
    const text = new TextDecoder().decode(Uint8Array.fromBase64(cleaned.file_enc_data!));
    assert.ok(!text.includes("TE-EMULATOR-ACTIVE-CONTENT"), "the marker is gone");
    assert.ok(text.includes("[removed by te-scan emulator]"));
    assert.ok(text.includes("unique scrub"), "the rest is kept");
    assert.equal(skipped.scrub_result, 4);
    assert.equal(skipped.message, "Skipped");
    assert.equal(skipped.file_enc_data, "");
    assert.equal(encrypted.scrub_result, 7);
    assert.equal(encrypted.message, "Password protected");
    assert.equal(encrypted.file_enc_data, "");
    assert.equal(byProfile.scrub_result, 0);
    assert.ok(byProfile.scrubbed_content?.includes("Macros And Code"), "default parts");
  });
});

Deno.test("scrub faults force any result code, including unknown ones", async () => {
  await withEmulator({}, async (h) => {
    await h.faults([{ kind: "scrub", code: 99 }, { kind: "scrub", code: 17 }]);
    const request = upload(marked("ACTIVE-CONTENT", "forced"), {
      scrub_options: { scrub_method: 1 },
    });
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const { items: [item] } = await h.tpapi([request]);
      codes.push(item.scrub!.scrub_result);
      if (item.scrub!.scrub_result !== 0) {
        assert.equal(item.scrub!.file_enc_data, "");
        assert.equal(item.scrub!.message, scrubResultInfo(item.scrub!.scrub_result).message);
      }
    }
    assert.deepEqual(codes, [99, 17, 0]);
    assert.equal((await h.stats()).faults_injected, 2);
  });
});

Deno.test("TPAPI UploadFile of an emulated file answers FOUND with a scrub object", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const request = upload("already known", {
      te_options: { features: ["te"] },
      scrub_options: { scrub_method: 2 },
    });
    const first = await h.tpapi([request]);
    assert.equal(first.items[0].te?.status.code, 1002);
    const second = await h.tpapi([request]);
    assert.equal(second.items[0].te?.status.code, 1001);
    assert.equal(second.items[0].te?.te?.combined_verdict, "Benign");
    assert.equal(second.items[0].scrub?.scrub_result, 0);
  });
});

Deno.test("code fault on TPAPI sets every object's te statuses", async () => {
  await withEmulator({}, async (h) => {
    await h.faults([{ kind: "code", path: "tpapi", code: 1011 }]);
    const { items } = await h.tpapi([
      query({ md5: "0".repeat(32) }),
      query({ md5: "1".repeat(32) }),
    ]);
    assert.deepEqual(items.map((i) => [i.te?.status.code, i.te?.te?.status.code]), [
      [1011, 1011],
      [1011, 1011],
    ]);
  });
});

const md5Of = (text: string) => createHash("md5").update(text).digest("hex");

Deno.test("QueryFile batch: 500 objects in one request, answered in order", async () => {
  await withEmulator({ emulationMs: 60_000 }, async (h) => {
    const known = "known to the gateway";
    await h.tpapi([upload(known, { te_options: { features: ["te"] } })]);
    const requests = Array.from(
      { length: 500 },
      (_, i) => query({ md5: i === 250 ? md5Of(known) : md5Of(`unknown ${i}`), features: ["te"] }),
    );
    const { reply, items } = await h.tpapi(requests);
    assert.equal(reply.status, 200);
    assert.equal(items.length, 500);
    items.forEach((item, i) => {
      assert.equal(item.protocol_version, "1.1");
      assert.equal(item.src_ip, "127.0.0.1");
      assert.equal(item.te?.md5, requests[i].md5, `item ${i} in request order`);
      assert.equal(item.te?.status.code, i === 250 ? 1003 : 1004, `item ${i}`);
    });
    assert.equal(items[250].te?.sha1, sha1(known), "a known file echoes every digest");
    assert.equal(items[250].te?.sha256, createHash("sha256").update(known).digest("hex"));
    const stats = await h.stats();
    assert.equal(stats.tpapi_requests, 2);
    assert.equal(stats.tpapi_queries, 1, "one request");
    assert.equal(stats.tpapi_query_items, 500);
    assert.equal(stats.tpapi_items, 501);
    assert.equal(stats.queries, 0, "cloud-format counters are untouched");
  });
});

Deno.test("QueryFile av: EICAR named, others clean, unknown hashes NOT_FOUND", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const eicar = eicarText();
    const av = (md5: string) => query({ md5, sha1: "", features: ["te", "av"] });
    const before = await h.tpapi([av(md5Of(eicar))]);
    assert.equal(before.items[0].te?.av?.status.code, 1004, "no AV answer for unseen content");
    await h.upload(eicar, { features: ["te"] });
    await h.tpapi([upload("benign for av", { te_options: { features: ["te", "av"] } })]);
    const { items } = await h.tpapi([av(md5Of(eicar)), av(md5Of("benign for av"))]);
    const [bad, good] = items.map((i) => i.te!);
    assert.equal(bad.av?.status.code, 1001, "the AV cache answers for content it has seen");
    assert.equal(bad.av?.malware_info?.signature_name, "EICAR-Test-File");
    assert.equal(bad.te?.combined_verdict, "Malicious");
    assert.equal(good.av?.status.code, 1001);
    assert.equal(good.av?.malware_info?.signature_name, "");
    assert.equal(good.status.code, 1001);
  });
});

Deno.test("TPAPI te_eb: early Malicious, final Benign, polled with QueryFile", async () => {
  await withEmulator({ emulationMs: 60_000, earlyMs: 500 }, async (h) => {
    const content = marked("EARLY-MALICIOUS", "tpapi");
    const up = await h.tpapi([upload(content, {
      te_options: { file_name: "a.docm", features: ["te", "te_eb"], te: { reports: ["summary"] } },
    })]);
    assert.equal(up.items[0].te?.status.code, 1002);
    assert.equal(up.items[0].te?.te_eb?.status.code, 1002);
    const poll = async () =>
      (await h.tpapi([query({ md5: md5Of(content), features: ["te", "te_eb"] })])).items[0].te!;
    assert.equal((await poll()).status.code, 1003);
    await h.advanceClock(500);
    const early = await poll();
    assert.equal(early.status.code, 1006);
    assert.equal(early.te_eb?.combined_verdict, "Malicious");
    assert.equal(early.te?.status.code, 1003);
    await h.advanceClock(60_000);
    const final = await poll();
    assert.equal(final.status.code, 1001);
    assert.equal(final.te?.combined_verdict, "Benign");
    assert.equal(final.te_eb?.combined_verdict, "Malicious");
  });
});

Deno.test("a TPAPI upload's summary report downloads from the cloud route, no key", async () => {
  await withEmulator({ apiKey: "gw-key", emulationMs: 1000 }, async (h) => {
    const content = marked("MALICIOUS", "report");
    await h.tpapi([upload(content, {
      te_options: {
        file_name: "evil.docx",
        features: ["te", "te_eb", "av"],
        te: { reports: ["summary"] },
      },
    })]);
    const poll = () =>
      h.tpapi([query({ md5: md5Of(content), features: ["te"], te: { reports: ["summary"] } })]);
    const pending = (await poll()).items[0].te!;
    assert.equal(pending.te?.status.code, 1003);
    assert.equal(pending.te?.summary_report, null);
    await h.advanceClock(1000);
    const found = (await poll()).items[0].te!;
    assert.equal(found.te?.combined_verdict, "Malicious");
    const r = await h.download(found.te!.summary_report!);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-disposition") ?? "", /^attachment; filename="[^"]+"$/);
    const members = listTar(await gunzip(Uint8Array.fromBase64(r.text)));
    const html = new TextDecoder().decode(members.find((m) => m.name === "report.html")!.data);
    assert.ok(html.includes("evil.docx") && html.includes(sha1(content)));
  });
});

const GUIDE_SCRUB_FIELDS = {
  file_enc_data: "string",
  input_real_extension: "string",
  message: "string",
  orig_file_url: "string",
  output_file_name: "string",
  protection_name: "string",
  protection_type: "string",
  real_extension: "string",
  risk: "number",
  scrub_activity: "string",
  scrub_method: "string",
  scrub_result: "number",
  scrub_time: "string",
  scrubbed_content: "string",
};

Deno.test("every scrub answer has every field of the gateway guide, typed as there", async () => {
  await withEmulator({}, async (h) => {
    await h.faults([{ kind: "scrub", code: 99 }]);
    const { items } = await h.tpapi([
      upload(marked("ACTIVE-CONTENT", "fields"), { scrub_options: { scrub_method: 1 } }),
      upload("nothing", { scrub_options: { scrub_method: 1 } }),
      upload("to pdf", { scrub_options: { scrub_method: 2 } }),
    ]);
    for (const item of items) {
      const scrub = item.scrub as unknown as Record<string, unknown>;
      for (const [field, type] of Object.entries(GUIDE_SCRUB_FIELDS)) {
        assert.equal(typeof scrub[field], type, `${field} of ${JSON.stringify(scrub)}`);
      }
    }
    assert.deepEqual(items.map((i) => i.scrub?.scrub_result), [99, 99, 99]);
    assert.equal(items[0].scrub?.message, "unknown code 99");
    assert.equal((await h.stats()).scrubs, 3);
  });
});

Deno.test("scrub: a skipped document and a file over the size limit (17)", async () => {
  await withEmulator({ scrubMaxBytes: 64 }, async (h) => {
    const big = marked("ACTIVE-CONTENT", "x".repeat(64));
    const { items } = await h.tpapi([
      upload("plain text", {
        file_orig_name: "3C400_May82.pdf",
        scrub_options: { scrub_method: 0, profile_name: "Recommended_Profile" },
      }),
      upload(big, { scrub_options: { scrub_method: 1 } }),
      upload(big, { scrub_options: { scrub_method: 2 } }),
    ]);
    const [skipped, tooBig, tooBigPdf] = items.map((i) => i.scrub!);
    assert.equal(skipped.scrub_result, 4);
    assert.equal(skipped.message, "Skipped");
    assert.equal(skipped.scrub_activity, "The file doesn't include cleanable parts");
    assert.equal(skipped.file_enc_data, "");
    assert.equal(skipped.output_file_name, "");
    assert.equal(skipped.scrub_method, "Clean Document");
    assert.equal(skipped.protection_type, "Content Removal");
    assert.equal(skipped.real_extension, "pdf");
    for (const refused of [tooBig, tooBigPdf]) {
      assert.equal(refused.scrub_result, 17);
      assert.equal(refused.message, "Larger than next hop size limit");
      assert.equal(refused.file_enc_data, "");
    }
  });
});

Deno.test("save_original_file_on_server gives an orig_file_url", async () => {
  await withEmulator({}, async (h) => {
    const { items: [item] } = await h.tpapi([
      upload("keep me", { scrub_options: { scrub_method: 2, save_original_file_on_server: true } }),
    ]);
    assert.equal(item.scrub?.orig_file_url, `https://127.0.0.1/UserCheck/file/${sha1("keep me")}`);
  });
});

Deno.test("TPAPI counters: uploads, decoded bytes, scrubs; refused objects not served", async () => {
  await withEmulator({ apiKey: "gw-key" }, async (h) => {
    await h.tpapi([
      upload("12345", { te_options: {} }),
      upload("1234567890", { scrub_options: { scrub_method: 2 } }),
      { ...upload("refused", { te_options: {} }), api_key: "bad" },
      upload("x", { file_enc_data: "%%%", te_options: {} }),
    ]);
    const stats = await h.stats();
    assert.equal(stats.tpapi_uploads, 2);
    assert.equal(stats.tpapi_upload_bytes, 15, "decoded bytes, not base64");
    assert.equal(stats.scrubs, 1);
    assert.equal(stats.tpapi_queries, 0);
    assert.equal(stats.auth_failures, 1);
    assert.equal(stats.bad_requests, 1);
    assert.equal(stats.uploads, 0, "cloud-format uploads are counted apart");
  });
});
