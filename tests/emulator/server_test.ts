import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseResponseBody } from "../../lib/transport/protocol.ts";
import { eicarText } from "../../lib/emulator/eicar.ts";
import { startEmulator } from "../../lib/emulator/server.ts";
import { CA_PEM, marked, withEmulator } from "./helpers.ts";

const hex = (algorithm: string, text: string) => createHash(algorithm).update(text).digest("hex");
const IMAGE_XP = "e50e99f3-5963-4573-af9e-e3f4750b55e2";
const IMAGE_W7 = "5e5de275-a103-4f67-b55b-47532918fa59";

Deno.test("query of an unknown file answers 1004 with both default images not_found", async () => {
  await withEmulator({}, async (h) => {
    const md5 = hex("md5", "never uploaded");
    const r = await h.queryRaw([{ md5, features: ["te"] }]);
    assert.equal(r.status, 200);
    const [item] = parseResponseBody(r.json, "answer").items;
    assert.equal(item.status.code, 1004);
    assert.equal(item.status.label, "NOT_FOUND");
    assert.equal(item.md5, md5);
    assert.equal(item.sha1, undefined, "only the digests asked are echoed for unknown files");
    assert.equal(item.te?.status.code, 1004);
    assert.deepEqual(item.te?.images?.map((i) => [i.id, i.status, i.report?.verdict]), [
      [IMAGE_XP, "not_found", "unknown"],
      [IMAGE_W7, "not_found", "unknown"],
    ]);
  });
});

Deno.test("hand-built multipart upload answers 1002 with all three digests", async () => {
  await withEmulator({}, async (h) => {
    const content = "plain benign text for the upload test\n";
    for (const options of [{}, { fileStylePart: true }, { partName: "json" as const }]) {
      const body = `${content}${JSON.stringify(options)}`;
      const item = await h.upload(body, { file_name: "notes.txt" }, options);
      assert.equal(item.status.code, 1002, JSON.stringify(options));
      assert.equal(item.status.label, "UPLOAD_SUCCESS");
      assert.equal(item.md5, hex("md5", body));
      assert.equal(item.sha1, hex("sha1", body));
      assert.equal(item.sha256, hex("sha256", body));
      assert.equal(item.file_name, "notes.txt");
      assert.equal(item.file_type, "txt");
      assert.deepEqual(item.features, ["te", "te_eb"]);
      assert.equal(item.te?.status.code, 1002);
      assert.deepEqual(item.te?.images?.map((i) => i.status), ["not_found", "not_found"]);
      assert.equal(item.te_eb?.status.code, 1002);
    }
  });
});

Deno.test("FormData upload takes the file name from the part and the type from it", async () => {
  await withEmulator({ mode: "cloud" }, async (h) => {
    const form = new FormData();
    form.append("request", JSON.stringify({ request: { features: ["te"] } }));
    form.append("file", new File(["%PDF-1.4 tiny"], "invoice.PDF"));
    const r = await h.fetch("/tecloud/api/v1/file/upload", { method: "POST", body: form });
    assert.equal(r.status, 200);
    const body = parseResponseBody(r.json, "upload answer");
    assert.equal(body.wasArray, false);
    assert.equal(body.items[0].status.code, 1002);
    assert.equal(body.items[0].file_name, "invoice.PDF");
    assert.equal(body.items[0].file_type, "pdf");
    assert.equal(body.items[0].sha1, hex("sha1", "%PDF-1.4 tiny"));
  });
});

Deno.test("malicious, appliance: PARTIALLY_FOUND with te_eb Malicious, then FOUND", async () => {
  await withEmulator({ emulationMs: 150, earlyMs: 0 }, async (h) => {
    const content = marked("MALICIOUS", "lifecycle");
    const up = await h.upload(content, { file_name: "dropper.exe", te: { reports: ["summary"] } });
    assert.equal(up.status.code, 1002);
    const request = { sha1: up.sha1, te: { reports: ["summary"] } };
    const seen = await h.pollUntil(request, (item) => item.status.code === 1001);
    const partial = seen.find((item) => item.status.code === 1006);
    assert.ok(partial, `no PARTIALLY_FOUND before FOUND: ${seen.map((s) => s.status.code)}`);
    assert.equal(partial.te?.status.code, 1003);
    assert.equal(partial.te?.combined_verdict, null);
    assert.equal(partial.te?.summary_report, null);
    assert.equal(partial.te_eb?.status.code, 1001);
    assert.equal(partial.te_eb?.combined_verdict, "Malicious");
    assert.equal(partial.te_eb?.severity, 4);
    const found = seen.at(-1)!;
    assert.equal(found.te?.status.code, 1001);
    assert.equal(found.te?.combined_verdict, "Malicious");
    assert.equal(found.te?.severity, 4);
    assert.equal(found.te?.confidence, 3);
    assert.equal(found.te?.score, -2147483648);
    assert.match(found.te?.summary_report ?? "", /^[0-9a-f-]{36}$/);
    assert.deepEqual(found.te?.images?.map((i) => [i.status, i.report?.verdict]), [
      ["found", "Malicious"],
      ["found", "Malicious"],
    ]);
    assert.equal(found.te_eb?.combined_verdict, "Malicious");
    assert.equal(found.md5, hex("md5", content), "a known file echoes all digests");
    assert.equal(found.file_name, "dropper.exe");
  });
});

Deno.test("benign file ends FOUND Benign with te_eb FOUND Benign, null image ids, no summary key", async () => {
  await withEmulator({ emulationMs: 40, earlyMs: 0 }, async (h) => {
    const up = await h.upload("just a benign document", { file_name: "memo.doc" });
    const request = { md5: up.md5, te: { reports: ["pdf", "xml", "summary"] } };
    const seen = await h.pollUntil(request, (item) => item.status.code === 1001);
    assert.ok(
      seen.slice(0, -1).every((item) => item.status.code === 1003),
      "benign files have no early verdict while te runs",
    );
    const found = seen.at(-1)!;
    assert.equal(found.te?.combined_verdict, "Benign");
    assert.equal(found.te?.severity, 0);
    assert.equal(found.te_eb?.status.code, 1001);
    assert.equal(found.te_eb?.combined_verdict, "Benign");
    // As the published benign sample: no summary_report key at all.
    assert.equal("summary_report" in found.te!, false);
    for (const image of found.te?.images ?? []) {
      assert.ok("pdf_report" in image.report! && image.report?.pdf_report === null);
      assert.ok("xml_report" in image.report! && image.report?.xml_report === null);
    }
  });
});

Deno.test("benignEarly pending: te_eb stays PENDING, combined PARTIALLY_FOUND", async () => {
  await withEmulator({ emulationMs: 0, benignEarly: "pending" }, async (h) => {
    const up = await h.upload("benign and early-less");
    const item = await h.query({ md5: up.md5 });
    assert.equal(item.te?.status.code, 1001);
    assert.equal(item.te_eb?.status.code, 1003);
    assert.equal(item.status.code, 1006);
  });
});

Deno.test("unsupported content answers 1007 at upload and at every later query", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const up = await h.upload(marked("UNSUPPORTED", "u1"), { file_name: "x.weird" });
    assert.equal(up.status.code, 1007);
    assert.equal(up.status.label, "FILE_TYPE_NOT_SUPPORTED");
    assert.equal(up.te?.status.code, 1007);
    const item = await h.query({ sha256: up.sha256 });
    assert.equal(item.status.code, 1007);
    assert.equal(item.te?.status.code, 1007);
    assert.equal(item.file_name, "x.weird");
  });
});

Deno.test("EICAR is malicious and named by AV; AV needs md5", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const up = await h.upload(eicarText(), { features: ["te", "av"] });
    const byMd5 = await h.query({ md5: up.md5, features: ["te", "av"] });
    assert.equal(byMd5.status.code, 1001);
    assert.equal(byMd5.te?.combined_verdict, "Malicious");
    assert.deepEqual(byMd5.av?.malware_info, {
      signature_name: "EICAR-Test-File",
      malware_family: 5374,
      malware_type: 42,
      severity: 4,
      confidence: 5,
    });
    const bySha1 = await h.query({ sha1: up.sha1, features: ["te", "av"] });
    assert.equal(bySha1.av?.status.code, 1004, "AV looks files up by md5 only");
    assert.equal(bySha1.status.code, 1006);
    const benign = await h.upload("clean bytes", { features: ["av"] });
    const clean = await h.query({ md5: benign.md5, features: ["av"] });
    assert.equal(clean.status.code, 1001);
    assert.equal(clean.av?.malware_info?.signature_name, "");
    assert.equal(clean.av?.malware_info?.severity, 0);
  });
});

Deno.test("a 60-object batch: request order, keyed by md5, mixed states", async () => {
  await withEmulator({ emulationMs: 60_000 }, async (h) => {
    const pending = await h.upload("pending one");
    const unsupported = await h.upload(marked("UNSUPPORTED", "batch"));
    const requests = Array.from({ length: 60 }, (_, i) => {
      if (i === 7) return { md5: pending.md5 };
      if (i === 31) return { md5: unsupported.md5 };
      if (i === 45) return { features: ["te"] };
      return { md5: hex("md5", `unknown ${i}`) };
    });
    const items = await h.queryMany(requests);
    assert.equal(items.length, 60);
    items.forEach((item, i) => {
      const expected = i === 7 ? 1003 : i === 31 ? 1007 : i === 45 ? 1008 : 1004;
      assert.equal(item.status.code, expected, `item ${i}`);
      if (i !== 45) assert.equal(item.md5, requests[i].md5, `item ${i} md5`);
    });
    const stats = await h.stats();
    assert.equal(stats.query_items, 60);
    assert.equal(stats.bad_requests, 1, "the digest-less object counts as a bad request");
  });
});

Deno.test("answer shapes: query mirrors the request; upload depends on the mode", async () => {
  for (const mode of ["appliance", "cloud"] as const) {
    await withEmulator({ mode }, async (h) => {
      const md5 = hex("md5", "shape");
      const asObject = await h.queryRaw({ md5 });
      assert.ok(!Array.isArray((asObject.json as { response: unknown }).response), mode);
      const asArray = await h.queryRaw([{ md5 }]);
      assert.ok(Array.isArray((asArray.json as { response: unknown }).response), mode);
      const upObject = await h.uploadRaw(`shape ${mode} object`, {});
      assert.ok(!Array.isArray((upObject.json as { response: unknown }).response), mode);
      const upArray = await h.uploadRaw(`shape ${mode} array`, {}, { asArray: true });
      const wasArray = Array.isArray((upArray.json as { response: unknown }).response);
      assert.equal(wasArray, mode === "appliance", `${mode}: one-element array upload`);
    });
  }
});

Deno.test("malformed JSON and wrong types: 400 with 1008; the server goes on", async () => {
  await withEmulator({}, async (h) => {
    const broken = await h.postJson("/tecloud/api/v1/file/query", '{"request": [{"md5": ');
    assert.equal(broken.status, 400);
    const status = (broken.json as { response: { status: { code: number; message: string } } })
      .response.status;
    assert.equal(status.code, 1008);
    assert.match(status.message, /not JSON/);
    const wrongType = await h.queryRaw([{ md5: 12345 }]);
    assert.equal(wrongType.status, 400);
    assert.match(JSON.stringify(wrongType.json), /md5: expected a string/);
    const noRequest = await h.postJson("/tecloud/api/v1/file/query", { requests: [] });
    assert.equal(noRequest.status, 400);
    const badFeature = await h.query({ md5: hex("md5", "x"), features: ["sandbox"] });
    assert.equal(badFeature.status.code, 1008);
    const fine = await h.query({ md5: hex("md5", "after the errors") });
    assert.equal(fine.status.code, 1004);
    assert.equal((await h.stats()).bad_requests, 4);
  });
});

Deno.test("a query body over 16 MiB answers 413 and the server keeps serving", async () => {
  await withEmulator({}, async (h) => {
    const huge = JSON.stringify({ request: [{ md5: "0".repeat(32), pad: "x".repeat(17 << 20) }] });
    const r = await h.postJson("/tecloud/api/v1/file/query", huge);
    assert.equal(r.status, 413);
    assert.match(r.text, /request body over 16777216 bytes/);
    assert.equal((await h.query({ md5: hex("md5", "small") })).status.code, 1004);
  });
});

Deno.test("sections of features not requested are ignored, not answered", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    // TEAPI Java always sends "extraction": {} whatever the features.
    const up = await h.upload("sections", { features: ["te"], extraction: {}, av: {} });
    assert.equal(up.status.code, 1002);
    assert.equal(up.extraction, undefined);
    const item = await h.query({ md5: up.md5, features: ["te"], extraction: { method: "clean" } });
    assert.equal(item.status.code, 1001);
    assert.deepEqual(
      Object.keys(item).filter((k) => ["te", "te_eb", "av", "extraction"].includes(k)),
      [
        "te",
      ],
    );
  });
});

Deno.test("JSON bodies are parsed whatever the Content-Type", async () => {
  await withEmulator({}, async (h) => {
    const body = JSON.stringify({ request: [{ md5: hex("md5", "ct") }] });
    for (const type of [null, "text/plain; charset=ISO-8859-1", "application/octet-stream"]) {
      const r = await h.fetch("/tecloud/api/v1/file/query", {
        method: "POST",
        body,
        headers: type ? { "content-type": type } : {},
      });
      assert.equal(r.status, 200, String(type));
    }
  });
});

Deno.test("verdict case follows the option; cloud mode defaults to lower case", async () => {
  const cases = [
    [{}, "Malicious"],
    [{ verdictCase: "lower" as const }, "malicious"],
    [{ mode: "cloud" as const }, "malicious"],
    [{ mode: "cloud" as const, verdictCase: "upper" as const }, "Malicious"],
  ] as const;
  for (const [options, expected] of cases) {
    await withEmulator({ ...options, emulationMs: 0 }, async (h) => {
      const up = await h.upload(marked("MALICIOUS", "case"));
      const item = await h.query({ md5: up.md5 });
      assert.equal(item.te?.combined_verdict, expected, JSON.stringify(options));
      assert.equal(item.te?.images?.[0].report?.verdict, expected);
    });
  }
});

Deno.test("cloud mode reports PENDING, not PARTIALLY_FOUND, while te runs", async () => {
  await withEmulator({ mode: "cloud", emulationMs: 60_000, earlyMs: 0 }, async (h) => {
    const up = await h.upload(marked("MALICIOUS", "cloud"), { file_name: "a.docx" });
    const item = await h.query({
      md5: up.md5,
      file_name: "a.docx",
      features: ["te", "te_eb", "extraction"],
    });
    assert.equal(item.te_eb?.status.code, 1001);
    assert.equal(item.extraction?.status.code, 1001, "extraction is done before te");
    assert.equal(item.te?.status.code, 1003);
    assert.equal(item.status.code, 1003);
  });
});

Deno.test("imagePartial: te passes PARTIALLY_FOUND with one image found, one pending", async () => {
  await withEmulator({ emulationMs: 200, earlyMs: 0, imagePartial: true }, async (h) => {
    const up = await h.upload("benign, partial images");
    const seen = await h.pollUntil(
      { md5: up.md5, features: ["te"] },
      (item) => item.te?.status.code === 1001,
    );
    const partial = seen.find((item) => item.te?.status.code === 1006);
    assert.ok(partial, `no te PARTIALLY_FOUND seen: ${seen.map((s) => s.te?.status.code)}`);
    assert.deepEqual(partial.te?.images?.map((i) => i.status), ["found", "pending"]);
    assert.equal(partial.te?.images?.[0].report?.verdict, "Benign");
    assert.equal(partial.status.code, 1006);
  });
});

Deno.test("extraction: FOUND with a cleaned name, PARTIALLY_FOUND without file_name", async () => {
  await withEmulator({ mode: "cloud", emulationMs: 0 }, async (h) => {
    const up = await h.upload("slides", {
      file_name: "deck.pptx",
      features: ["te", "extraction"],
      extraction: { method: "pdf" },
    });
    assert.equal(up.extraction?.status.code, 1002);
    assert.equal(up.extraction?.method, "pdf");
    const item = await h.query({
      md5: up.md5,
      file_name: "deck.pptx",
      features: ["te", "extraction"],
      extraction: { method: "pdf" },
    });
    assert.equal(item.status.code, 1001);
    assert.equal(item.extraction?.extract_result, "CP_EXTRACT_RESULT_SUCCESS");
    assert.equal(item.extraction?.output_file_name, "deck.cleaned.pptx.pdf");
    assert.equal(item.extraction?.tex_product, false);
    assert.equal(item.extraction?.extraction_data?.protection_type, "Conversion to PDF");
    assert.match(item.extraction?.extracted_file_download_id ?? "", /^[0-9a-f-]{36}$/);
    const nameless = await h.query({ md5: up.md5, features: ["te", "extraction"] });
    assert.equal(nameless.extraction?.status.code, 1006);
    assert.equal(nameless.status.code, 1006);
  });
});

Deno.test("re-uploading an emulated file answers FOUND at once (switchable)", async () => {
  for (const knownUploadAnswersFound of [true, false]) {
    await withEmulator({ emulationMs: 0, knownUploadAnswersFound }, async (h) => {
      await h.upload("emulated before");
      const again = await h.upload("emulated before");
      assert.equal(again.status.code, knownUploadAnswersFound ? 1001 : 1002);
    });
  }
});

Deno.test("an upload whose claimed digest does not match the bytes answers 1008", async () => {
  await withEmulator({}, async (h) => {
    const item = await h.upload("real bytes", { md5: hex("md5", "other bytes") });
    assert.equal(item.status.code, 1008);
    assert.match(item.status.message ?? "", /does not match/);
    const lookup = await h.query({ md5: hex("md5", "real bytes") });
    assert.equal(lookup.status.code, 1004, "a refused upload is not registered");
  });
});

Deno.test("uploads without a file or request part answer 400", async () => {
  await withEmulator({}, async (h) => {
    const form = new FormData();
    form.append("request", JSON.stringify({ request: {} }));
    const noFile = await h.fetch("/tecloud/api/v1/file/upload", { method: "POST", body: form });
    assert.equal(noFile.status, 400);
    const notMultipart = await h.postJson("/tecloud/api/v1/file/upload", { request: {} });
    assert.equal(notMultipart.status, 400);
    assert.match(notMultipart.text, /not multipart/);
  });
});

Deno.test("te_cookie is set on query answers and echoed back when sent", async () => {
  await withEmulator({}, async (h) => {
    const first = await h.queryRaw([{ md5: hex("md5", "c") }]);
    const cookie = first.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^te_cookie=[A-Za-z0-9]+; Path=\/$/);
    const value = cookie.slice("te_cookie=".length, cookie.indexOf(";"));
    const byCookie = await h.queryRaw([{ md5: hex("md5", "c") }], { cookie: `te_cookie=${value}` });
    assert.equal(byCookie.headers.get("set-cookie"), `te_cookie=${value}; Path=/`);
    const byHeader = await h.queryRaw([{ md5: hex("md5", "c") }], { te_cookie: "remember" });
    assert.equal(byHeader.headers.get("set-cookie"), "te_cookie=remember; Path=/");
  });
});

Deno.test("unknown routes and wrong methods answer JSON errors", async () => {
  await withEmulator({}, async (h) => {
    const missing = await h.fetch("/tecloud/api/v1/file/scan");
    assert.equal(missing.status, 404);
    assert.equal(
      (missing.json as { response: { status: { code: number } } }).response.status.code,
      1004,
    );
    const wrongMethod = await h.fetch("/tecloud/api/v1/file/query");
    assert.equal(wrongMethod.status, 405);
    const alias = await h.postJson("/tecloud/gw/v1/file/query", {
      request: { md5: hex("md5", "a") },
    });
    assert.equal(alias.status, 200, "the legacy gw path is an alias");
  });
});

Deno.test("stats add up to what the client did", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const sizes = [10, 2000, 70_000];
    const uploads = [];
    for (const size of sizes) uploads.push(await h.upload(new Uint8Array(size).fill(size % 251)));
    await h.queryMany(uploads.map((u) => ({ md5: u.md5 })));
    await h.queryMany([{ md5: hex("md5", "a") }, { md5: hex("md5", "b") }]);
    await h.fetch("/nowhere");
    const stats = await h.stats();
    assert.equal(stats.http_requests, h.requestsMade);
    assert.equal(stats.uploads, 3);
    assert.equal(stats.upload_bytes, 10 + 2000 + 70_000);
    assert.equal(stats.queries, 2);
    assert.equal(stats.query_items, 5);
    assert.equal(stats.downloads, 0);
    assert.equal(stats.faults_injected, 0);
    assert.deepEqual(h.emulator.stats(), stats);
  });
});

Deno.test("every answer of a whole session passes the client's contract parser", async () => {
  await withEmulator({ emulationMs: 0, earlyMs: 0 }, async (h) => {
    const features = ["te", "te_eb", "av", "extraction"];
    const te = { reports: ["pdf", "xml", "tar", "summary", "full_report"] };
    const up = await h.upload(marked("MALICIOUS", "contract"), {
      file_name: "c.doc",
      features,
      te,
    });
    assert.equal(up.status.code, 1002);
    const items = await h.queryMany([
      { md5: up.md5, file_name: "c.doc", features, te },
      { sha1: up.sha1, features, te },
      { md5: hex("md5", "nothing"), features, te },
    ]);
    assert.deepEqual(items.map((i) => i.status.code), [1001, 1006, 1004]);
    const [found] = items;
    assert.ok(found.te?.images?.every((i) => i.report?.tar_report && i.report?.full_report));
  });
});

Deno.test("startEmulator rejects bad options and a port in use", async () => {
  await assert.rejects(startEmulator({ failRate: 1.5 }), /failRate must be between 0 and 1/);
  await assert.rejects(startEmulator({ quota: 3 }), /quota applies to cloud mode only/);
  const first = await startEmulator({ port: 0 });
  try {
    await assert.rejects(startEmulator({ port: first.port }), /in use|AddrInUse/i);
  } finally {
    await first.close();
  }
});

Deno.test("the built-in certificate is trusted by a client holding the test CA", async () => {
  const emulator = await startEmulator({ port: 0 });
  const client = Deno.createHttpClient({ caCerts: [CA_PEM] });
  try {
    assert.equal(emulator.url, `https://127.0.0.1:${emulator.port}`);
    const res = await fetch(`${emulator.url}/__emulator/stats`, { client });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await assert.rejects(fetch(`${emulator.url}/__emulator/stats`), "untrusted without the CA");
  } finally {
    client.close();
    await emulator.close();
  }
});

Deno.test("learn() takes content without the network; a query then finds it as a cache hit", async () => {
  await withEmulator({ emulationMs: 1000 }, async (h) => {
    const content = new TextEncoder().encode("seeded by a benchmark, never uploaded");
    const learned = h.emulator.learn(content, "seed.txt");
    assert.equal(learned.status.code, 1002);
    assert.equal(h.emulator.stats().uploads, 0, "no upload went over the wire");
    h.emulator.advanceClock(1000);
    const r = await h.queryRaw([{
      sha1: hex("sha1", "seeded by a benchmark, never uploaded"),
      features: ["te"],
    }]);
    const [item] = parseResponseBody(r.json, "answer").items;
    assert.equal(item.status.code, 1001);
    assert.equal(item.te?.combined_verdict?.toLowerCase(), "benign");
  });
});
