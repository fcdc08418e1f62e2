import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { scrubResultInfo } from "../../lib/transport/tpapi_types.ts";
import { marked, withEmulator } from "./helpers.ts";

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

function query(extra: Record<string, unknown>) {
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
