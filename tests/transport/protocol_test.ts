import assert from "node:assert/strict";
import { normalizeVerdict, parseResponseBody, reportIds } from "../../lib/transport/protocol.ts";
import { ProtocolError } from "../../lib/transport/validate.ts";
import { fixtureNames, readFixture } from "../helpers.ts";

Deno.test("every Check Point sample parses with the project's types", async () => {
  const names = await fixtureNames();
  assert.ok(names.length >= 7, `expected the 7 samples, found ${names.join(", ")}`);
  for (const name of names) {
    const body = parseResponseBody(await readFixture(name), name);
    assert.equal(body.items.length, 1, name);
    const item = body.items[0];
    assert.equal(typeof item.status.code, "number", name);
    assert.ok(item.md5 && /^[0-9a-f]{32}$/.test(item.md5), `${name} echoes md5`);
    assert.ok(item.te, `${name} has a te section`);
  }
});

Deno.test("upload samples answer with an object, query samples with an array", async () => {
  assert.equal(parseResponseBody(await readFixture("uploadResponse.json"), "u").wasArray, false);
  assert.equal(parseResponseBody(await readFixture("TEXUploadResponse.json"), "u").wasArray, false);
  assert.equal(parseResponseBody(await readFixture("responsePending.json"), "q").wasArray, true);
});

Deno.test("the TEX pending sample keeps its extraction block and odd file type", async () => {
  const [item] = parseResponseBody(await readFixture("TEXResponsePending.json"), "q").items;
  assert.equal(item.status.label, "PENDING");
  assert.equal(item.extraction?.status.label, "FOUND");
  assert.equal(item.extraction?.extracted_file_download_id, "37e0ba30-709f-427b-89fa-b982f0a80415");
  assert.equal(item.file_type, "html?C=M;O=D");
});

Deno.test("null report ids in real benign samples yield no download", async () => {
  const [item] = parseResponseBody(await readFixture("benignResponseFound.json"), "q").items;
  assert.deepEqual(reportIds(item), []);
});

Deno.test("report ids are collected once each, with format and image", () => {
  const found = { code: 1001, label: "FOUND", message: "" };
  const ids = reportIds({
    status: found,
    te: {
      status: found,
      summary_report: "s",
      images: [
        { id: "img1", report: { pdf_report: "p", xml_report: "x1" } },
        { id: "img2", report: { pdf_report: "p", xml_report: "x2", tar_report: null } },
      ],
    },
  });
  assert.deepEqual(ids, [
    { id: "s", format: "summary" },
    { id: "p", format: "pdf", imageId: "img1" },
    { id: "x1", format: "xml", imageId: "img1" },
    { id: "x2", format: "xml", imageId: "img2" },
  ]);
});

Deno.test("verdicts compare case-insensitively", () => {
  assert.equal(normalizeVerdict("Malicious"), "malicious");
  assert.equal(normalizeVerdict("MALICIOUS"), "malicious");
  assert.equal(normalizeVerdict("benign"), "benign");
  assert.equal(normalizeVerdict("Error"), "error");
  assert.equal(normalizeVerdict("suspicious"), "unknown");
  assert.equal(normalizeVerdict(null), undefined);
});

Deno.test("wrong types are rejected with the JSON path named", () => {
  const cases: [unknown, RegExp][] = [
    [
      { response: [{ status: { code: "1001" } }] },
      /response\[0\]\.status\.code: expected a number/,
    ],
    [{ response: [{ status: { code: 1001 }, md5: 5 }] }, /response\[0\]\.md5: expected a string/],
    [
      { response: [{ status: { code: 1001 }, te: { status: { code: 1001 }, images: {} } }] },
      /te\.images: expected an array/,
    ],
    [
      { response: { status: { code: 1001 }, te: { status: { code: 1001 }, combined_verdict: 1 } } },
      /te\.combined_verdict: expected a string or null/,
    ],
    [{ response: "FOUND" }, /expected an object/],
    [{ answer: [] }, /no "response" field/],
    [[], /expected an object, got an array/],
    // Not "got undefined undefined", as the randomized-answer test once printed.
    [
      { response: { md5: "m" } },
      /response\.status: expected an object, got nothing \(the field is missing\)$/,
    ],
    [
      { response: [{ status: { label: "FOUND" } }] },
      /response\[0\]\.status\.code: expected a number, got nothing/,
    ],
  ];
  for (const [body, pattern] of cases) {
    assert.throws(() => parseResponseBody(body, "query answer"), (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes("\n"), "one line");
      return true;
    });
  }
});

Deno.test("unknown fields are tolerated and kept for the response file", () => {
  const body = parseResponseBody({
    response: [{ status: { code: 1001, label: "FOUND", extra: 1 }, future_field: { a: 1 } }],
  }, "q");
  assert.deepEqual((body.items[0] as unknown as Record<string, unknown>).future_field, { a: 1 });
});
