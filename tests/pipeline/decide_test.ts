import assert from "node:assert/strict";
import { parseResponseBody, type ResponseItem } from "../../lib/transport/protocol.ts";
import { avFinding, decide } from "../../lib/pipeline/decide.ts";
import { readFixture } from "../helpers.ts";

const FOUND = { code: 1001, label: "FOUND", message: "" };
const PENDING = { code: 1003, label: "PENDING", message: "" };
const PARTIAL = { code: 1006, label: "PARTIALLY_FOUND", message: "" };

async function sample(name: string): Promise<ResponseItem> {
  return parseResponseBody(await readFixture(name), name).items[0];
}

function withVerdict(item: ResponseItem, verdict: string | null): ResponseItem {
  return { ...item, te: { ...item.te!, combined_verdict: verdict } };
}

Deno.test("contract: each Check Point sample leads to the right next step", async () => {
  assert.deepEqual(decide(await sample("benignResponseFound.json"), "cache"), {
    kind: "final",
    state: "benign",
    verdict: "benign",
  });
  assert.deepEqual(decide(await sample("responseNotFound.json"), "cache"), { kind: "upload" });
  assert.deepEqual(decide(await sample("TEXResponseNotFound.json"), "cache"), { kind: "upload" });
  assert.equal(decide(await sample("responsePending.json"), "poll").kind, "wait");
  assert.equal(decide(await sample("TEXResponsePending.json"), "poll").kind, "wait");
  assert.equal(decide(await sample("uploadResponse.json"), "upload").kind, "wait");
  assert.equal(decide(await sample("TEXUploadResponse.json"), "upload").kind, "wait");
});

Deno.test("contract: verdict case variants all dispose the same way", async () => {
  const benign = await sample("benignResponseFound.json");
  for (const verdict of ["malicious", "Malicious", "MALICIOUS"]) {
    assert.deepEqual(decide(withVerdict(benign, verdict), "poll"), {
      kind: "final",
      state: "malicious",
      verdict: "malicious",
    });
  }
  for (const verdict of ["benign", "Benign"]) {
    assert.equal(decide(withVerdict(benign, verdict), "poll").kind, "final");
  }
});

Deno.test("contract: FOUND without a verdict, or with Error, is an error with a reason", async () => {
  const benign = await sample("benignResponseFound.json");
  const none = decide(withVerdict(benign, null), "poll");
  assert.equal(none.kind, "error");
  assert.match((none as { reason: string }).reason, /without a verdict/);
  const error = decide(withVerdict(benign, "Error"), "poll");
  assert.equal(error.kind, "error");
  assert.match((error as { reason: string }).reason, /"Error"/);
});

Deno.test("te FOUND inside PARTIALLY_FOUND is final (te_api strands these files)", () => {
  const decision = decide({
    status: PARTIAL,
    te: { status: FOUND, combined_verdict: "Benign" },
    te_eb: { status: PENDING },
  }, "poll");
  assert.deepEqual(decision, { kind: "final", state: "benign", verdict: "benign" });
});

Deno.test("te_eb early malicious verdict while te is pending", () => {
  const decision = decide({
    status: PARTIAL,
    te: { status: PENDING },
    te_eb: { status: FOUND, combined_verdict: "Malicious" },
  }, "poll");
  assert.deepEqual(decision, { kind: "early-malicious" });
  const benignEarly = decide({
    status: PARTIAL,
    te: { status: PENDING },
    te_eb: { status: FOUND, combined_verdict: "Benign" },
  }, "poll");
  assert.equal(benignEarly.kind, "wait");
});

Deno.test("image-level partial: final only when no image is pending", () => {
  const partial = (second: string) =>
    decide({
      status: PARTIAL,
      te: {
        status: PARTIAL,
        combined_verdict: "malicious",
        images: [{ id: "a", status: "found" }, { id: "b", status: second }],
      },
    }, "poll");
  assert.equal(partial("pending").kind, "wait");
  assert.equal(partial("found").kind, "final");
});

Deno.test("permanent and passing codes, top level or in te", () => {
  const code = (c: number) => ({ code: c, label: "", message: "m" });
  assert.equal(decide({ status: code(1007), te: { status: code(1007) } }, "upload").kind, "error");
  assert.equal(decide({ status: code(1005) }, "cache").kind, "error");
  assert.equal(decide({ status: code(1010), te: { status: PENDING } }, "poll").kind, "error");
  assert.equal(decide({ status: code(1009) }, "poll").kind, "retry");
  assert.equal(decide({ status: code(1011), te: { status: code(1011) } }, "upload").kind, "retry");
  assert.equal(decide({ status: code(7777) }, "poll").kind, "error");
});

Deno.test("NOT_FOUND: upload from the cache or a poll, retry right after an upload", () => {
  const notFound = { status: { code: 1004 }, te: { status: { code: 1004 } } };
  assert.equal(decide(notFound, "cache").kind, "upload");
  assert.equal(decide(notFound, "poll").kind, "upload");
  assert.equal(decide(notFound, "upload").kind, "retry");
});

Deno.test("an answer with FOUND but no te section is an error, not a guess", () => {
  const decision = decide({ status: FOUND }, "poll");
  assert.equal(decision.kind, "error");
});

/** A Check Point sample with a hand-made AV section, as a gateway or an appliance answers `av`. */
function withAv(item: ResponseItem, signature: string | undefined, code = 1001): ResponseItem {
  const status = { code, label: code === 1001 ? "FOUND" : "PENDING", message: "" };
  const malware_info = signature === undefined
    ? undefined
    : { signature_name: signature, malware_family: 0, malware_type: 0, severity: 0, confidence: 0 };
  return { ...item, av: malware_info ? { status, malware_info } : { status } };
}

Deno.test("AV: a detection is malicious even when te says benign, and the note names it", async () => {
  const benign = await sample("benignResponseFound.json");
  assert.deepEqual(decide(withAv(benign, "EICAR-Test-File"), "cache"), {
    kind: "final",
    state: "malicious",
    verdict: "malicious",
    note: "anti-virus: EICAR-Test-File",
  });
  // A clean AV answer (empty signature, or no malware_info) changes nothing.
  for (const clean of [withAv(benign, ""), withAv(benign, undefined)]) {
    assert.deepEqual(decide(clean, "cache"), { kind: "final", state: "benign", verdict: "benign" });
  }
});

Deno.test("AV: a detection quarantines at once while te is pending or unknown", async () => {
  const pending = withAv(await sample("responsePending.json"), "Trojan.Win32.Generic");
  assert.deepEqual(decide(pending, "poll"), {
    kind: "early-malicious",
    reason: "anti-virus: Trojan.Win32.Generic",
  });
  // The cache's AV answer for a file te has never seen: quarantine now, and upload for te.
  const unknown = withAv(await sample("responseNotFound.json"), "EICAR-Test-File");
  assert.deepEqual(decide(unknown, "cache"), {
    kind: "early-malicious",
    reason: "anti-virus: EICAR-Test-File",
    upload: true,
  });
  // te cannot judge it, AV can: malicious, with te's reason kept.
  const unsupported = withAv({
    status: { code: 1007, label: "FILE_TYPE_NOT_SUPPORTED" },
    te: { status: { code: 1007, label: "FILE_TYPE_NOT_SUPPORTED" } },
  }, "EICAR-Test-File");
  const decision = decide(unsupported, "upload");
  assert.equal(decision.kind === "final" && decision.state, "malicious");
  assert.match((decision as { note: string }).note, /anti-virus: EICAR-Test-File \(te: 1007/);
});

Deno.test("AV alone (no te asked): FOUND is final, pending waits, unknown is uploaded", () => {
  const top = { code: 1001, label: "FOUND" };
  const avOnly = { avOnly: true };
  assert.deepEqual(decide(withAv({ status: top }, ""), "cache", avOnly), {
    kind: "final",
    state: "benign",
    verdict: "benign",
  });
  assert.equal(decide(withAv({ status: top }, "EICAR-Test-File"), "cache", avOnly).kind, "final");
  assert.equal(decide(withAv({ status: PENDING }, undefined, 1003), "poll", avOnly).kind, "wait");
  const notFound = { code: 1004, label: "NOT_FOUND" };
  const unknown = { status: notFound, av: { status: notFound } };
  assert.equal(decide(unknown, "cache", avOnly).kind, "upload");
  // With te asked, an answer that lost its te section is not made benign by a clean AV.
  assert.equal(decide(withAv({ status: top }, ""), "cache").kind, "error");
  assert.equal(decide(withAv({ status: top }, "EICAR-Test-File"), "cache").kind, "final");
});

Deno.test("avFinding records the status, and the signature only when AV found one", async () => {
  const benign = await sample("benignResponseFound.json");
  assert.equal(avFinding(benign), undefined);
  assert.deepEqual(avFinding(withAv(benign, "EICAR-Test-File")), {
    code: 1001,
    status: "FOUND",
    signature: "EICAR-Test-File",
  });
  assert.deepEqual(avFinding(withAv(benign, "  ")), { code: 1001, status: "FOUND" });
  assert.deepEqual(avFinding(withAv(benign, "X", 1003)), { code: 1003, status: "PENDING" });
});

Deno.test("--extract: a file the cache knows is uploaded for its cleaned copy, unless malicious", async () => {
  const uploadKnown = { uploadKnown: true };
  const benign = await sample("benignResponseFound.json");
  assert.deepEqual(decide(benign, "cache", uploadKnown), { kind: "upload" });
  assert.equal(decide(await sample("responsePending.json"), "cache", uploadKnown).kind, "upload");
  // After the upload, the same answer is final: extraction came with the upload.
  assert.equal(decide(benign, "upload", uploadKnown).kind, "final");
  assert.equal(decide(benign, "poll", uploadKnown).kind, "final");
  const malicious = withVerdict(benign, "Malicious");
  assert.equal(decide(malicious, "cache", uploadKnown).kind, "final");
  assert.equal(decide(withAv(benign, "EICAR-Test-File"), "cache", uploadKnown).kind, "final");
});
