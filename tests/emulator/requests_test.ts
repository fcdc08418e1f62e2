// The emulator's own request checks (lib/emulator/requests.ts), written from the protocol reference
// and the gateway guide: what a client may send, and what is refused with the field named.
import assert from "node:assert/strict";
import { parseCloudBody, parseGatewayObject } from "../../lib/emulator/requests.ts";
import { BadRequest } from "../../lib/emulator/wire.ts";

Deno.test("cloud requests: an object or an array; a wrong type or method is refused by name", () => {
  const single = parseCloudBody({ request: { sha1: "", md5: "AB", file_type: ".pdf" } }, "q");
  assert.equal(single.wasArray, false);
  assert.equal(single.items.length, 1);
  const batch = parseCloudBody({ request: [{ sha1: "aa" }, { md5: "bb" }] }, "q");
  assert.equal(batch.wasArray, true);
  assert.equal(batch.items.length, 2);
  assert.throws(() => parseCloudBody({ request: [{ features: "te" }] }, "q"), /features/);
  assert.throws(() => parseCloudBody({ request: "x" }, "q"), BadRequest);
  assert.throws(
    () => parseCloudBody({ request: { extraction: { method: "zip" } } }, "q"),
    /method/,
  );
});

Deno.test("gateway requests: a query needs a digest, an upload te_options or scrub_options", () => {
  const common = { protocol_version: "1.1", api_key: "k" };
  const query = parseGatewayObject({ ...common, request_name: "QueryFile", md5: "AA" }, "r");
  assert.equal(query.request_name, "QueryFile");
  assert.throws(
    () => parseGatewayObject({ ...common, request_name: "QueryFile" }, "r"),
    /needs md5, sha1 or sha256/,
  );
  assert.throws(
    () =>
      parseGatewayObject(
        { ...common, request_name: "UploadFile", file_enc_data: "aGk=", file_orig_name: "a" },
        "r",
      ),
    /te_options or scrub_options/,
  );
  assert.throws(
    () =>
      parseGatewayObject({
        ...common,
        request_name: "UploadFile",
        file_enc_data: "aGk=",
        file_orig_name: "a",
        scrub_options: { scrub_method: 0 },
      }, "r"),
    /profile_name: required/,
  );
  assert.throws(
    () => parseGatewayObject({ ...common, request_name: "DeleteFile" }, "r"),
    (error) => error instanceof BadRequest && /request_name/.test(error.message),
  );
});
