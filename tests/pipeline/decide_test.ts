import assert from "node:assert/strict";
import { parseResponseBody, type ResponseItem } from "../../lib/transport/cloud_types.ts";
import { decide } from "../../lib/pipeline/decide.ts";
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
