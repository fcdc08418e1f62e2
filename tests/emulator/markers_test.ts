import assert from "node:assert/strict";
import { eicarText } from "../../lib/emulator/eicar.ts";
import { CONTENT_MARKERS } from "../../lib/emulator/content_scan.ts";
import { scanBytes } from "../../lib/emulator/content_scan.ts";
import { marked, withEmulator } from "./helpers.ts";

const FEATURES = ["te", "te_eb", "av"];

Deno.test("early-malicious, appliance: te_eb Malicious first, then te FOUND Benign", async () => {
  await withEmulator({ emulationMs: 60_000, earlyMs: 1_000 }, async (h) => {
    const content = marked("EARLY-MALICIOUS", "appliance");
    const up = await h.upload(content, { file_name: "macro.docm", features: FEATURES });
    assert.equal(up.status.code, 1002);
    // Without av, which answers at once and would make every stage PARTIALLY_FOUND.
    const request = { md5: up.md5, features: ["te", "te_eb"], te: { reports: ["summary"] } };
    const before = await h.query(request);
    assert.equal(before.status.code, 1003, "nothing is known before --early-ms");
    assert.equal(before.te_eb?.status.code, 1003);
    await h.advanceClock(1_000);
    const early = await h.query(request);
    assert.equal(early.status.code, 1006, "PARTIALLY_FOUND: te_eb answered, te still running");
    assert.equal(early.te_eb?.status.code, 1001);
    assert.equal(early.te_eb?.combined_verdict, "Malicious");
    assert.equal(early.te_eb?.severity, 4);
    assert.equal(early.te?.status.code, 1003);
    assert.equal(early.te?.combined_verdict, null);
    await h.advanceClock(59_000);
    const final = await h.query(request);
    assert.equal(final.status.code, 1001);
    assert.equal(final.te?.status.code, 1001);
    assert.equal(
      final.te?.combined_verdict,
      "Benign",
      "the final verdict differs from the early one",
    );
    assert.equal(final.te?.severity, 0);
    assert.equal("summary_report" in final.te!, false, "no report for a benign final verdict");
    assert.deepEqual(final.te?.images?.map((i) => i.report?.verdict), ["Benign", "Benign"]);
    assert.equal(final.te_eb?.combined_verdict, "Malicious", "the early verdict stays what it was");
    const av = await h.query({ md5: up.md5, features: ["av"] });
    assert.equal(av.av?.malware_info?.signature_name, "", "AV has no signature for it");
  });
});

Deno.test("early-malicious, cloud: lower-case verdicts, PENDING while te runs", async () => {
  await withEmulator({ mode: "cloud", emulationMs: 60_000, earlyMs: 0 }, async (h) => {
    const up = await h.upload(marked("EARLY-MALICIOUS", "cloud"));
    const early = await h.query({ md5: up.md5 });
    assert.equal(early.status.code, 1003, "the cloud says PENDING while te is pending");
    assert.equal(early.te_eb?.combined_verdict, "malicious");
    await h.advanceClock(60_000);
    const final = await h.query({ md5: up.md5 });
    assert.equal(final.te?.combined_verdict, "benign");
    assert.equal(final.te_eb?.combined_verdict, "malicious");
  });
});

Deno.test("AV knows the EICAR signature only; the TE markers are zero-days to it", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const cases: [string, string, string][] = [
      [eicarText(), "EICAR-Test-File", "Malicious"],
      [marked("MALICIOUS", "av"), "", "Malicious"],
      [marked("EARLY-MALICIOUS", "av"), "", "Benign"],
      ["nothing special", "", "Benign"],
    ];
    for (const [content, signature, verdict] of cases) {
      const up = await h.upload(content, { features: FEATURES });
      const item = await h.query({ md5: up.md5, features: FEATURES });
      assert.equal(item.av?.status.code, 1001);
      assert.equal(item.av?.malware_info?.signature_name, signature, signature || verdict);
      assert.equal(item.av?.malware_info?.severity, signature ? 4 : 0);
      assert.equal(item.te?.combined_verdict, verdict);
    }
  });
});

Deno.test("the scanner's marker table: each marker is found, none inside another", () => {
  const names = CONTENT_MARKERS.map((m) => m.name);
  assert.deepEqual(new Set(names).size, names.length);
  for (const { marker, name } of CONTENT_MARKERS) {
    const text = marker === "eicar" ? eicarText() : `before ${name} after`;
    assert.deepEqual([...scanBytes(new TextEncoder().encode(text)).markers], [marker], name);
  }
});

Deno.test("POST /__emulator/clock moves the clock; bad bodies answer 400", async () => {
  await withEmulator({ emulationMs: 3_600_000 }, async (h) => {
    const up = await h.upload("waits an hour");
    assert.equal((await h.query({ md5: up.md5 })).te?.status.code, 1003);
    await h.advanceClock(3_600_000);
    assert.equal((await h.query({ md5: up.md5 })).te?.status.code, 1001);
    for (const body of [{}, { advance_ms: -1 }, { advance_ms: "10" }, { advance_ms: 1e20 }]) {
      const r = await h.postJson("/__emulator/clock", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.text, /advance_ms/);
    }
    assert.equal((await h.fetch("/__emulator/clock")).status, 405);
    assert.equal((await h.fetch("/__emulator/nothing")).status, 404);
  });
});

Deno.test("emulation-error: te Error to a client that asks for errors, Benign to one that does not", async () => {
  await withEmulator({ emulationMs: 1_000 }, async (h) => {
    const up = await h.upload(marked("EMULATION-ERROR", "failed"), { file_name: "a.docx" });
    await h.advanceClock(1_000);
    const plain = await h.query({ md5: up.md5, features: ["te"], te: { reports: ["summary"] } });
    assert.equal(plain.te?.status.code, 1001);
    assert.equal(plain.te?.combined_verdict, "Benign", "an old client is told benign");
    assert.equal(plain.te?.te_engine_version, undefined, "no version unless asked");
    const te = { reports: ["summary"], return_errors: true, version_info: true };
    const asked = await h.query({ md5: up.md5, features: ["te"], te });
    assert.equal(asked.te?.status.code, 1001);
    assert.equal(asked.te?.combined_verdict, "Error");
    assert.match(asked.te?.status.message ?? "", /emulation failed/);
    assert.equal(typeof asked.te?.te_engine_version, "string");
  });
});
