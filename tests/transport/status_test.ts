import assert from "node:assert/strict";
import {
  actionFor,
  Code,
  describeStatus,
  STATUS_TABLE,
  statusObject,
} from "../../lib/transport/status.ts";

Deno.test("each status code maps to what a client does", () => {
  const expected: Record<number, string> = {
    1001: "done",
    1002: "wait",
    1003: "wait",
    1004: "upload",
    1005: "give-up",
    1006: "wait",
    1007: "give-up",
    1008: "give-up",
    1009: "retry",
    1010: "give-up",
    1011: "retry",
  };
  for (const [code, action] of Object.entries(expected)) {
    assert.equal(actionFor(Number(code)), action, `code ${code}`);
  }
  assert.equal(Object.keys(STATUS_TABLE).length, 11);
});

Deno.test("unknown codes are permanent failures, described plainly", () => {
  assert.equal(actionFor(4242), "give-up");
  assert.equal(describeStatus({ code: 4242 }), "4242 UNKNOWN");
  assert.equal(
    describeStatus({ code: 1007, label: "FILE_TYPE_NOT_SUPPORTED", message: "nope" }),
    "1007 FILE_TYPE_NOT_SUPPORTED: nope",
  );
});

Deno.test("status objects carry the real appliance messages", () => {
  assert.deepEqual(statusObject(Code.NOT_FOUND), {
    code: 1004,
    label: "NOT_FOUND",
    message: "Could not find the requested file. Please upload it.",
  });
});
