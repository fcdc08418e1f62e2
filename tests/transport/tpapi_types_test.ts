import assert from "node:assert/strict";
import {
  oddScrubFields,
  parseTpapiResponseBody,
  scrubResultInfo,
} from "../../lib/transport/tpapi_types.ts";
import { ProtocolError } from "../../lib/transport/validate.ts";

// The gateway guide's own examples (shared/seeds/tpapi-gateway-guide.txt).
const GUIDE_QUERY_ANSWER = {
  response: [{
    protocol_version: "1.1",
    src_ip: "10.0.0.1",
    te: {
      features: ["te"],
      file_type: "pdf",
      md5: "49f68a5c8493ec2c0bf489821c21fc3b",
      sha1: "c22b5f9178342609428d6f51b2c5af4c0bde6a42",
      status: { code: 1001, label: "FOUND", message: "We have found your request" },
      te: {
        combined_verdict: "Benign",
        confidence: 0,
        images: [{
          id: "5e5de275-a103-4f67-b55b-47532918fa59",
          report: { additional_emulation_data: { dropped_data: "" }, verdict: "Benign" },
          revision: 1,
          status: "found",
        }],
        score: -2147483648,
        severity: 0,
        status: { code: 1001, label: "FOUND", message: "We have found your request" },
      },
    },
  }],
};

const GUIDE_SCRUB_ANSWER = {
  response: [{
    protocol_version: "1.1",
    src_ip: "10.0.0.1",
    scrub: {
      file_enc_data: "",
      input_real_extension: "pdf",
      message: "Skipped",
      output_file_name: "",
      protection_type: "Content Removal",
      risk: 0,
      scrub_method: "Clean Document",
      scrub_result: 4,
      scrub_time: "0.483",
      scrubbed_content: "",
    },
  }],
};

Deno.test("the gateway guide's answers parse", () => {
  const [query] = parseTpapiResponseBody(GUIDE_QUERY_ANSWER);
  assert.equal(query.te?.te?.combined_verdict, "Benign");
  const [scrub] = parseTpapiResponseBody(GUIDE_SCRUB_ANSWER);
  assert.equal(scrub.scrub?.scrub_result, 4);
  assert.equal(scrubResultInfo(scrub.scrub!.scrub_result).outcome, "unchanged");
});

Deno.test("a scrub answer's descriptive field of another type is set aside, not fatal", () => {
  const odd = { ...GUIDE_SCRUB_ANSWER.response[0].scrub, scrub_time: 0.483, message: 7 };
  const [item] = parseTpapiResponseBody({ response: [{ scrub: odd }] });
  assert.equal(item.scrub?.scrub_result, 4);
  assert.deepEqual(oddScrubFields(item.scrub!), [
    "message is number 7, not text",
    "scrub_time is number 0.483, not text",
  ]);
  assert.throws(
    () => parseTpapiResponseBody({ response: [{ scrub: { scrub_result: 0, file_enc_data: 5 } }] }),
    ProtocolError,
  );
});

Deno.test("scrub codes the guide does not name are 'unknown code N', never a crash", () => {
  assert.equal(scrubResultInfo(0).outcome, "cleaned");
  assert.equal(scrubResultInfo(7).message, "Password protected");
  assert.equal(scrubResultInfo(17).message, "Larger than next hop size limit");
  assert.deepEqual(scrubResultInfo(99), {
    code: 99,
    message: "unknown code 99",
    outcome: "failed",
  });
});

Deno.test("a hostile gateway answer is rejected with the path", () => {
  assert.throws(
    () => parseTpapiResponseBody({ response: [{ scrub: { scrub_result: "0" } }] }),
    /scrub\.scrub_result/,
  );
  assert.throws(() => parseTpapiResponseBody({ response: [{ te: { status: 5 } }] }), /te\.status/);
});
