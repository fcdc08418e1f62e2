import assert from "node:assert/strict";
import { parseResponseBody } from "../../lib/transport/protocol.ts";
import { ProtocolError } from "../../lib/transport/validate.ts";
import { threatFinding } from "../../lib/pipeline/threat.ts";

const found = { code: 1001, label: "FOUND", message: "We have found your request" };

/** A malicious te answer whose images say what decided the verdict, as seed 001's answer shape. */
function answer(decider: unknown) {
  const extra = {
    dropped_data: "",
    dropped_files_info: "",
    embedded_data: "",
    embedded_files_info: "",
    source_url_risk: "",
    verdict_decider: decider,
  };
  return {
    response: [{
      status: found,
      sha1: "c22b5f9178342609428d6f51b2c5af4c0bde6a42",
      te: {
        status: found,
        combined_verdict: "Malicious",
        severity: 3,
        confidence: 2,
        images: [
          {
            id: "5e5de275-a103-4f67-b55b-47532918fa59",
            status: "found",
            revision: 1,
            report: {
              verdict: "Malicious",
              additional_emulation_data: { ...extra, verdict_decider: "" },
            },
          },
          {
            id: "e50e99f3-5963-4573-af9e-e3f4750b55e2",
            status: "found",
            revision: 1,
            report: { verdict: "Malicious", additional_emulation_data: extra },
          },
        ],
      },
    }],
  };
}

Deno.test("threat: te's severity and confidence, and what its images say decided the verdict", () => {
  const [item] = parseResponseBody(answer("Static Analysis"), "answer").items;
  assert.deepEqual(threatFinding(item), {
    source: "te",
    severity: 3,
    severityName: "high",
    confidence: 2,
    confidenceName: "medium",
    decidedBy: "Static Analysis",
  });
});

Deno.test("threat: a verdict_decider that is not a string is refused at the edge", () => {
  assert.throws(() => parseResponseBody(answer(7), "answer"), ProtocolError);
});

Deno.test("threat: a benign answer has none; levels off the scale keep their number only", () => {
  const benign = { status: found, combined_verdict: "Benign", severity: 0, confidence: 0 };
  assert.equal(threatFinding({ status: found, te: benign }), undefined);
  const odd = { status: found, combined_verdict: "malicious", severity: 9, confidence: 7 };
  assert.deepEqual(threatFinding({ status: found, te: odd }), {
    source: "te",
    severity: 9,
    confidence: 7,
  });
});
