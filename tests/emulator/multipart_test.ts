import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { eicarBytes } from "../../lib/emulator/eicar.ts";
import type { Marker } from "../../lib/emulator/content_scan.ts";
import {
  boundaryFromContentType,
  MultipartError,
  type ParsedUpload,
  parseUpload,
} from "../../lib/emulator/multipart.ts";
import { seededRandom } from "../../lib/emulator/rng.ts";

const enc = new TextEncoder();
const REQUEST_JSON = JSON.stringify({
  // Non-ASCII, so 1-byte chunks split its UTF-8 sequences.
  request: { file_name: "résumé €.pdf", features: ["te"], te: { reports: ["pdf", "summary"] } },
});
// What Python `requests` uses: 32 hex digits, unquoted in the header.
const PY_BOUNDARY = "3f1a2b9c8d7e6f5a4b3c2d1e0f9a8b7c";

function randomBytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const next = seededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}

function bytesOf(...parts: (string | Uint8Array)[]): Uint8Array<ArrayBuffer> {
  const arrays = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** A stream that hands out fresh copies of `bytes` cut at `cuts`. */
function streamOf(bytes: Uint8Array, cuts: number[] = []): ReadableStream<Uint8Array> {
  const ends = [...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length];
  let from = 0;
  return new ReadableStream({
    pull(controller) {
      const end = ends.shift();
      if (end === undefined) return controller.close();
      controller.enqueue(bytes.slice(from, end));
      from = end;
    },
  }, { highWaterMark: 0 });
}

function oneByteCuts(length: number): number[] {
  return Array.from({ length }, (_, i) => i + 1);
}

function randomCuts(length: number, seed: number, maxChunk: number): number[] {
  const next = seededRandom(seed);
  const cuts: number[] = [];
  for (let at = 1 + Math.floor(next() * maxChunk); at < length;) {
    cuts.push(at);
    at += 1 + Math.floor(next() * maxChunk);
  }
  return cuts;
}

/** Every way of feeding a body that the parsing tests try. */
function chunkings(length: number): [string, number[]][] {
  return [
    ["whole", []],
    ["1-byte", oneByteCuts(length)],
    ...[1, 2, 3, 4, 5].map((
      s,
    ): [string, number[]] => [`random ≤7 seed ${s}`, randomCuts(length, s, 7)]),
    ...[6, 7, 8].map((
      s,
    ): [string, number[]] => [`random ≤300 seed ${s}`, randomCuts(length, s, 300)]),
  ];
}

function facts(bytes: Uint8Array, markers: Marker[] = []) {
  const hex = (alg: string) => createHash(alg).update(bytes).digest("hex");
  return {
    md5: hex("md5"),
    sha1: hex("sha1"),
    sha256: hex("sha256"),
    size: bytes.length,
    markers: new Set(markers),
  };
}

/** As Python `requests` sends `files={"request": json, "file": (name, data)}`. */
function pythonRequestsBody(boundary: string, json: string, fileName: string, file: Uint8Array) {
  return bytesOf(
    `--${boundary}\r\n`,
    `Content-Disposition: form-data; name="request"; filename="request"\r\n\r\n`,
    json,
    `\r\n--${boundary}\r\n`,
    `Content-Disposition: form-data; name="file"; filename="${fileName}"\r\n\r\n`,
    file,
    `\r\n--${boundary}--\r\n`,
  );
}

/** As Apache HttpMime (the TEAPI Java client) sends a StringBody and a file body. */
function javaBody(boundary: string, json: string, fileName: string, file: Uint8Array) {
  return bytesOf(
    `--${boundary}\r\n`,
    `Content-Disposition: form-data; name="request"\r\n`,
    `Content-Type: application/json; charset=UTF-8\r\n`,
    `Content-Transfer-Encoding: 8bit\r\n\r\n`,
    json,
    `\r\n--${boundary}\r\n`,
    `Content-Disposition: form-data; name="file"; filename="${fileName}"\r\n`,
    `Content-Type: application/octet-stream\r\n`,
    `Content-Transfer-Encoding: binary\r\n\r\n`,
    file,
    `\r\n--${boundary}--\r\n`,
  );
}

/** Checks a fixture with Deno's own multipart parser, so fixtures can't be wrong in our favour. */
async function denoParse(body: Uint8Array<ArrayBuffer>, contentType: string) {
  const form = await new Request("http://fixture.test/", {
    method: "POST",
    body,
    headers: { "content-type": contentType },
  }).formData();
  const file = form.get("file");
  assert.ok(file instanceof File);
  const request = form.get("request") ?? form.get("json");
  return {
    request: request instanceof File ? await request.text() : request,
    fileName: file.name,
    file: await file.bytes(),
  };
}

// Content that looks like a delimiter without being one, ends in a bare CR
// (so the real delimiter is preceded by "\r\r\n") and holds every marker.
function trickyFile(boundary: string): Uint8Array {
  return bytesOf(
    randomBytes(500, 42),
    `\r\n--${boundary.slice(0, -1)}X\r\n`,
    `text--${boundary}--\r\n`,
    "\r\n-\r\n--\r\n\r\n",
    "TE-EMULATOR-MALICIOUS ",
    eicarBytes(),
    " TE-EMULATOR-UNSUPPORTED",
    randomBytes(500, 43),
    "\r",
  );
}

const ALL_MARKERS: Marker[] = ["eicar", "malicious", "unsupported"];

Deno.test("Python requests body (file-style request part), any chunking", async () => {
  const file = trickyFile(PY_BOUNDARY);
  const body = pythonRequestsBody(PY_BOUNDARY, REQUEST_JSON, "report.pdf", file);
  const contentType = `multipart/form-data; boundary=${PY_BOUNDARY}`;
  assert.deepEqual(await denoParse(body, contentType), {
    request: REQUEST_JSON,
    fileName: "report.pdf",
    file,
  });
  const expected: ParsedUpload = {
    requestJson: REQUEST_JSON,
    requestPartName: "request",
    fileName: "report.pdf",
    file: facts(file, ALL_MARKERS),
    otherParts: [],
  };
  for (const [how, cuts] of chunkings(body.length)) {
    assert.deepEqual(await parseUpload(streamOf(body, cuts), contentType), expected, how);
  }
});

Deno.test("Java-style body (plain JSON field with a content type), any chunking", async () => {
  const boundary = "Ab3_xY-9'()+,./:=?";
  const file = trickyFile(boundary);
  const body = javaBody(boundary, REQUEST_JSON, "C:\\temp\\sample.docx", file);
  const contentType = `multipart/form-data; boundary="${boundary}"; charset=UTF-8`;
  const expected: ParsedUpload = {
    requestJson: REQUEST_JSON,
    requestPartName: "request",
    fileName: "C:\\temp\\sample.docx",
    file: facts(file, ALL_MARKERS),
    otherParts: [],
  };
  for (const [how, cuts] of chunkings(body.length)) {
    assert.deepEqual(await parseUpload(streamOf(body, cuts), contentType), expected, how);
  }
});

Deno.test("json alias, other parts listed, preamble and epilogue ignored", async () => {
  const b = "alias-boundary";
  const file = enc.encode("plain text file\r\n");
  const body = bytesOf(
    "This is the preamble. --alias-boundary is not at a line start here.\r\n",
    `--${b}\r\n`,
    `Content-Disposition: form-data; name="comment"\r\n\r\n`,
    "first other part",
    `\r\n--${b}   \t\r\n`,
    `Content-Disposition: form-data; name="json"\r\n`,
    `Content-Type: application/json\r\n\r\n`,
    REQUEST_JSON,
    `\r\n--${b}\r\n`,
    `content-disposition: form-data; name="file"; filename="notes.txt"\r\n\r\n`,
    file,
    `\r\n--${b}\r\n`,
    `\r\n`,
    "a part with no headers at all",
    `\r\n--${b}\r\n`,
    `Content-Disposition: form-data; name="request"\r\n\r\n`,
    "{}",
    `\r\n--${b}--`,
    "\r\nThe epilogue, with a fake part:\r\n--alias-boundary\r\nbroken",
  );
  const contentType = `Multipart/Form-Data; BOUNDARY=${b}`;
  const expected: ParsedUpload = {
    requestJson: REQUEST_JSON,
    requestPartName: "json",
    fileName: "notes.txt",
    file: facts(file),
    otherParts: ["comment", "", "request"],
  };
  for (const [how, cuts] of chunkings(body.length)) {
    assert.deepEqual(await parseUpload(streamOf(body, cuts), contentType), expected, how);
  }
});

Deno.test("finds the delimiter wherever the body is split in two", async () => {
  const file = bytesOf("TE-EMULATOR-", "UNSUPPORTED\r\n--", PY_BOUNDARY.slice(0, 20), "\r");
  const body = pythonRequestsBody(PY_BOUNDARY, REQUEST_JSON, "x.bin", file);
  const contentType = `multipart/form-data; boundary=${PY_BOUNDARY}`;
  const expected: ParsedUpload = {
    requestJson: REQUEST_JSON,
    requestPartName: "request",
    fileName: "x.bin",
    file: facts(file, ["unsupported"]),
    otherParts: [],
  };
  for (let cut = 0; cut <= body.length; cut++) {
    assert.deepEqual(await parseUpload(streamOf(body, [cut]), contentType), expected, `${cut}`);
  }
});

Deno.test("interoperates with Deno's own FormData encoder", async () => {
  const data = bytesOf(randomBytes(100_000, 9), eicarBytes(), randomBytes(100, 10));
  const form = new FormData();
  form.append("request", REQUEST_JSON);
  form.append("file", new File([data], 'résumé "final".pdf', { type: "application/pdf" }));
  form.append("extra", "value");
  const request = new Request("https://emulator.test/tecloud/api/v1/file/upload", {
    method: "POST",
    body: form,
  });
  const contentType = request.headers.get("content-type") ?? "";
  const bytes = await request.bytes();
  const expected: ParsedUpload = {
    requestJson: REQUEST_JSON,
    requestPartName: "request",
    fileName: 'résumé "final".pdf',
    file: facts(data, ["eicar"]),
    otherParts: ["extra"],
  };
  // Tiny chunks over 100 KB would only slow the suite: the hand-built bodies cover them.
  const ways: [string, number[]][] = [
    ["whole", []],
    ["random ≤300", randomCuts(bytes.length, 1, 300)],
    ["random ≤64 KiB", randomCuts(bytes.length, 2, 65536)],
  ];
  for (const [how, cuts] of ways) {
    assert.deepEqual(await parseUpload(streamOf(bytes, cuts), contentType), expected, how);
  }

  // The JSON as a file-style part, like requests, but encoded by Deno.
  const fileStyle = new FormData();
  fileStyle.append("request", new Blob([REQUEST_JSON]), "request");
  fileStyle.append("file", new File([data], "a.pdf"));
  const req2 = new Request("https://emulator.test/", { method: "POST", body: fileStyle });
  const parsed = await parseUpload(req2.body!, req2.headers.get("content-type") ?? "");
  assert.equal(parsed.requestJson, REQUEST_JSON);
  assert.equal(parsed.fileName, "a.pdf");
  assert.equal(parsed.file?.sha1, facts(data).sha1);
});

Deno.test("decodes RFC 8187 filename* and prefers it to filename", async () => {
  const b = "b";
  const body = (disposition: string) =>
    bytesOf(`--${b}\r\nContent-Disposition: ${disposition}\r\n\r\nabc\r\n--${b}--\r\n`);
  const nameFor = async (disposition: string) =>
    (await parseUpload(streamOf(body(disposition)), `multipart/form-data; boundary=${b}`))
      .fileName;
  assert.equal(
    await nameFor(
      `form-data; name="file"; filename="rates.pdf"; filename*=UTF-8''%E2%82%AC%20rates.pdf`,
    ),
    "€ rates.pdf",
  );
  assert.equal(
    await nameFor(`form-data; name=file; filename*=utf-8'en'na%C3%AFve.txt`),
    "naïve.txt",
  );
  assert.equal(await nameFor(`form-data; name="file"; filename="a \\"b\\".txt"`), 'a "b".txt');
  // An undecodable extended value falls back to the plain one.
  assert.equal(
    await nameFor(`form-data; name="file"; filename*=UTF-8''%FF%FE; filename="plain.txt"`),
    "plain.txt",
  );
  assert.equal(await nameFor(`form-data; name="file"`), null);
});

Deno.test("a missing or unusable boundary is a MultipartError", async () => {
  for (
    const contentType of [
      "multipart/form-data",
      "multipart/form-data; boundary=",
      'multipart/form-data; boundary=""',
      "application/json",
      "",
      `multipart/form-data; boundary=${"x".repeat(71)}`,
    ]
  ) {
    await assert.rejects(
      parseUpload(streamOf(enc.encode("--x\r\n\r\n\r\n--x--")), contentType),
      MultipartError,
      contentType,
    );
  }
  assert.equal(boundaryFromContentType(`multipart/form-data; boundary="q;b"`), "q;b");
  assert.equal(boundaryFromContentType(`multipart/form-data;boundary=plain ; x=1`), "plain");
});

Deno.test("truncated bodies are a one-line MultipartError", async () => {
  const body = pythonRequestsBody(PY_BOUNDARY, REQUEST_JSON, "x.bin", randomBytes(1000, 11));
  const text = new TextDecoder("latin1").decode(body);
  const contentType = `multipart/form-data; boundary=${PY_BOUNDARY}`;
  const cuts = [
    0, // empty body
    10, // inside the opening boundary
    text.indexOf("Content-Disposition") + 5, // inside the first headers
    text.indexOf("{"), // right after the headers
    text.indexOf("features"), // inside the JSON
    body.length - 500, // inside the file
    body.length - 4 - PY_BOUNDARY.length - 2, // just before the closing delimiter
    body.length - 4, // after the closing boundary but before its "--"
  ];
  for (const cut of cuts) {
    for (const chunking of [[], oneByteCuts(cut)]) {
      await assert.rejects(
        parseUpload(streamOf(body.slice(0, cut), chunking), contentType),
        (e: unknown) => {
          assert.ok(e instanceof MultipartError, `cut ${cut}: ${e}`);
          assert.match(e.message, /^multipart body (truncated|has no opening boundary)[^\n]*$/);
          return true;
        },
      );
    }
  }
  // Still fine when cut right after the closing "--".
  const whole = await parseUpload(streamOf(body.slice(0, body.length - 2)), contentType);
  assert.equal(whole.file?.size, 1000);
});

Deno.test("a JSON part over the cap is refused, one at the cap accepted", async () => {
  const b = "cap";
  const bodyWith = (json: string) =>
    bytesOf(
      `--${b}\r\nContent-Disposition: form-data; name="request"\r\n\r\n`,
      json,
      `\r\n--${b}--\r\n`,
    );
  const contentType = `multipart/form-data; boundary=${b}`;
  const at = await parseUpload(streamOf(bodyWith("x".repeat(64))), contentType, {
    maxJsonBytes: 64,
  });
  assert.equal(at.requestJson, "x".repeat(64));
  await assert.rejects(
    parseUpload(streamOf(bodyWith("x".repeat(65)), oneByteCuts(100)), contentType, {
      maxJsonBytes: 64,
    }),
    /^MultipartError: multipart part "request" exceeds 64 bytes$/,
  );
  const big = `{"pad":"${"y".repeat(1024 * 1024)}"}`;
  await assert.rejects(parseUpload(streamOf(bodyWith(big)), contentType), MultipartError);
  const fits = await parseUpload(streamOf(bodyWith(big)), contentType, { maxJsonBytes: 2 << 20 });
  assert.equal(fits.requestJson, big);
});

Deno.test("oversized part headers and malformed boundary lines are refused", async () => {
  const b = "hdr";
  const contentType = `multipart/form-data; boundary=${b}`;
  const longHeaders = bytesOf(
    `--${b}\r\nContent-Disposition: form-data; name="file"\r\n`,
    `X-Padding: ${"p".repeat(17 * 1024)}\r\n\r\nabc\r\n--${b}--\r\n`,
  );
  await assert.rejects(parseUpload(streamOf(longHeaders), contentType), /headers exceed 16384/);
  const garbage = bytesOf(`--${b}junk\r\n\r\nabc\r\n--${b}--\r\n`);
  await assert.rejects(parseUpload(streamOf(garbage), contentType), /malformed multipart boundary/);
  const noColon = bytesOf(`--${b}\r\nnot a header\r\n\r\nabc\r\n--${b}--\r\n`);
  await assert.rejects(parseUpload(streamOf(noColon), contentType), /malformed part header/);
});

Deno.test("a body of more than 1000 parts is refused", async () => {
  const part = `--p\r\nContent-Disposition: form-data; name="n"\r\n\r\nv\r\n`;
  const parse = (parts: number) =>
    parseUpload(
      streamOf(enc.encode(part.repeat(parts) + "--p--")),
      "multipart/form-data; boundary=p",
    );
  assert.equal((await parse(1000)).otherParts.length, 1000);
  await assert.rejects(parse(1001), /over 1000 parts/);
});

Deno.test("stops at the closing boundary without reading an endless epilogue", async () => {
  const head = bytesOf(`--e\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--e--`);
  let sent = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(sent++ === 0 ? head.slice() : new Uint8Array(4096));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const parsed = await parseUpload(body, "multipart/form-data; boundary=e");
  assert.equal(parsed.file?.md5, facts(enc.encode("abc")).md5);
  assert.ok(cancelled);
  assert.ok(sent <= 2, `read ${sent} chunks`);
});

Deno.test("an error of the body stream itself is passed through", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(`--z\r\nContent-Disposition: form-data; name="file"\r\n\r\n`));
      controller.error(new Error("connection reset"));
    },
  });
  await assert.rejects(parseUpload(body, "multipart/form-data; boundary=z"), (e: unknown) => {
    assert.ok(e instanceof Error && !(e instanceof MultipartError));
    assert.equal(e.message, "connection reset");
    return true;
  });
});

Deno.test("a 64 MiB file is streamed, not buffered", async () => {
  const chunkSize = 1 << 20;
  const chunks = 64;
  const boundary = "big-upload-boundary";
  const head = bytesOf(
    `--${boundary}\r\nContent-Disposition: form-data; name="request"; filename="request"\r\n\r\n`,
    REQUEST_JSON,
    `\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`,
  );
  const tail = enc.encode(`\r\n--${boundary}--\r\n`);
  // The chunks come from a small ring of reused buffers. Fresh ones would
  // measure V8 (it lets ~64 MiB of dead buffers pile up before collecting)
  // rather than the parser; a parser that kept views of them instead of
  // copies would get the digests wrong, one that kept copies would grow RSS.
  const ring = [1, 2, 3, 4].map((i) => randomBytes(chunkSize, 12 + i));
  const hashes = ["md5", "sha1", "sha256"].map((alg) => createHash(alg));
  const marker = enc.encode("TE-EMULATOR-MALICIOUS");
  let next = -1;
  let peakRss = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
      if (next === -1) controller.enqueue(head.slice());
      else if (next === chunks) controller.enqueue(tail.slice());
      else if (next > chunks) return controller.close();
      else {
        const chunk = ring[next % ring.length];
        // No two chunks alike, so a repeated or skipped one changes the digests.
        new DataView(chunk.buffer).setUint32(100, next);
        // The marker straddles the middle chunk boundary.
        const markerAt = chunks / 2;
        if (next === markerAt - 1) chunk.set(marker.subarray(0, 9), chunkSize - 9);
        if (next === markerAt) chunk.set(marker.subarray(9), 0);
        // Ring buffers come round again: scrub the marker halves.
        if (next === markerAt - 1 + ring.length) chunk.fill(0, chunkSize - 9);
        if (next === markerAt + ring.length) chunk.fill(0, 0, 12);
        for (const h of hashes) h.update(chunk);
        controller.enqueue(chunk);
      }
      next++;
    },
  }, { highWaterMark: 0 });
  const rssBefore = Deno.memoryUsage().rss;
  const parsed = await parseUpload(body, `multipart/form-data; boundary=${boundary}`);
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  const [md5, sha1, sha256] = hashes.map((h) => h.digest("hex"));
  assert.deepEqual(parsed.file, {
    md5,
    sha1,
    sha256,
    size: chunks * chunkSize,
    markers: new Set(["malicious"]),
  });
  assert.equal(parsed.requestJson, REQUEST_JSON);
  const growthMiB = (peakRss - rssBefore) / (1 << 20);
  assert.ok(growthMiB < 48, `RSS grew by ${growthMiB.toFixed(1)} MiB for a 64 MiB upload`);
});
