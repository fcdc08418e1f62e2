// The emulator as an independent oracle (issue 18): the seeds' own request
// examples, sent byte for byte, get answers shaped like the published
// samples; te-scan's own requests, recorded on the wire, pass the
// emulator's checker (lib/emulator/requests.ts), which shares no code with
// the client; and a malformed request is refused.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCloudBody, parseGatewayObject } from "../../lib/emulator/requests.ts";
import { parseUpload } from "../../lib/emulator/multipart.ts";
import { readTpapiBody } from "../../lib/emulator/tpapi_body.ts";
import { startEmulator } from "../../lib/emulator/server.ts";
import {
  CA_FILE,
  captureScan,
  readFixture,
  scanFolders,
  sortFlags,
  tempDir,
  within,
  writeTree,
} from "../helpers.ts";
import { CA_PEM, marked, withEmulator } from "./helpers.ts";

const SEEDS = new URL("../fixtures/seeds/", import.meta.url);

/** The JSON that follows each `Query request`/`Upload response`… heading of the guide, verbatim. */
async function guideExamples(): Promise<{ heading: string; text: string }[]> {
  const guide = await Deno.readTextFile(new URL("tpapi-gateway-guide.txt", SEEDS));
  const out: { heading: string; text: string }[] = [];
  for (const match of guide.matchAll(/^(Query|Upload) (request|response)$/gm)) {
    const start = guide.indexOf("{", match.index);
    let depth = 0;
    let inString = false;
    let end = start;
    for (; end < guide.length; end++) {
      const c = guide[end];
      if (inString) {
        if (c === "\\") end++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) break;
    }
    out.push({ heading: match[0], text: guide.slice(start, end + 1) });
  }
  return out;
}

type Json = Record<string, unknown>;

function kind(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

/** Every key of `sample`, recursively, is in `answer` with the same JSON type. */
function assertCovers(answer: unknown, sample: unknown, path = "$"): void {
  assert.equal(kind(answer), kind(sample), `${path}: type`);
  if (Array.isArray(sample) && Array.isArray(answer)) {
    if (sample.length > 0) {
      assert.ok(answer.length > 0, `${path}: empty`);
      answer.forEach((a, i) => assertCovers(a, sample[0], `${path}[${i}]`));
    }
    return;
  }
  if (kind(sample) !== "object") return;
  for (const [key, value] of Object.entries(sample as Json)) {
    assert.ok(key in (answer as Json), `${path}.${key}: missing`);
    assertCovers((answer as Json)[key], value, `${path}.${key}`);
  }
}

function keys(value: unknown): string[] {
  return Object.keys(value as Json).sort();
}

async function postText(url: string, path: string, body: string): Promise<Json> {
  const client = Deno.createHttpClient({ caCerts: [CA_PEM] });
  try {
    const res = await fetch(`${url}${path}`, { method: "POST", body, client });
    assert.equal(res.status, 200, path);
    return await res.json();
  } finally {
    client.close();
  }
}

/** The guide's six examples by name, checked to be the ones expected. */
async function namedExamples() {
  const examples = await guideExamples();
  assert.deepEqual(examples.map((e) => e.heading), [
    "Query request",
    "Query response",
    "Upload request",
    "Upload response",
    "Upload request",
    "Upload response",
  ]);
  const [query, queryAnswer, upload1, upload1Answer, upload2, upload2Answer] = examples.map(
    (e) => e.text,
  );
  return { query, queryAnswer, upload1, upload1Answer, upload2, upload2Answer };
}

const GUIDE_SHA1 = "c22b5f9178342609428d6f51b2c5af4c0bde6a42";

Deno.test("contract: the gateway guide's examples, verbatim, are read as the guide says", async () => {
  const { query, queryAnswer, upload1, upload2 } = await namedExamples();
  await withEmulator({}, async (h) => {
    const url = h.emulator.url;
    // The query example, byte for byte: a hash the emulator never saw.
    const notFound = (await postText(url, "/UserCheck/TPAPI", query)).response as Json[];
    assert.equal(notFound.length, 1);
    assert.deepEqual(keys(notFound[0]), keys(JSON.parse(queryAnswer).response[0]));
    const te = notFound[0].te as Json;
    assert.equal((te.status as Json).code, 1004);
    assert.equal(te.sha1, GUIDE_SHA1);
    const published = (await readFixture("responseNotFound.json")) as { response: Json[] };
    // Not found, the answer carries only the digest asked by (DOC-189796): sha1 here.
    const { md5: _, ...byDigest } = published.response[0];
    assertCovers(te, byDigest);

    // Both upload examples carry a placeholder, not base64: refused, naming the field.
    for (const text of [upload1, upload2]) {
      const [refused] = (await postText(url, "/UserCheck/TPAPI", text)).response as Json[];
      const status = (refused.te as Json).status as Json;
      assert.equal(status.code, 1008);
      assert.match(String(status.message), /request\[0\]\.file_enc_data: not valid base64/);
    }
  });
});

Deno.test("contract: the guide's examples with a real file get the guide's answers", async () => {
  const ex = await namedExamples();
  const fill = (text: string, content: string) =>
    text.replace("<base64_encoded_file>", new TextEncoder().encode(content).toBase64());
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const url = h.emulator.url;
    const send = async (text: string) =>
      ((await postText(url, "/UserCheck/TPAPI", text)).response as Json[])[0];
    const toPdf = await send(fill(ex.upload1, "hi there"));
    const toPdfSample = JSON.parse(ex.upload1Answer).response[0];
    assert.deepEqual(keys(toPdf), keys(toPdfSample));
    assert.deepEqual(keys(toPdf.scrub), keys(toPdfSample.scrub));
    assert.equal((toPdf.scrub as Json).output_file_name, "hi.cleaned.pdf");
    assert.equal((toPdf.scrub as Json).protection_type, "Conversion to PDF");

    const byProfile = await send(fill(ex.upload2, "%PDF-1.4 a document without active content"));
    const byProfileSample = JSON.parse(ex.upload2Answer).response[0];
    assert.deepEqual(keys(byProfile), keys(byProfileSample));
    assert.deepEqual(keys(byProfile.scrub), keys(byProfileSample.scrub));
    assert.equal((byProfile.scrub as Json).scrub_result, 4, "Skipped, as in the guide");
    assertCovers(byProfile.te, byProfileSample.te);
    assert.equal(((byProfile.te as Json).status as Json).code, 1002);

    // The query example again, for the file just uploaded: the guide's FOUND
    // shape, additional_emulation_data included.
    const found = await send(ex.query.replace(GUIDE_SHA1, (byProfile.te as Json).sha1 as string));
    const sample = JSON.parse(ex.queryAnswer).response[0];
    assertCovers(found, sample);
    for (const image of ((found.te as Json).te as Json).images as Json[]) {
      assert.deepEqual(keys(image.report), keys(sample.te.te.images[0].report));
    }
    assert.equal(((found.te as Json).te as Json).combined_verdict, "Benign");
  });
});

Deno.test("contract: cloud-format answers have the published samples' shapes", async () => {
  await withEmulator({ mode: "cloud", emulationMs: 60_000 }, async (h) => {
    const sample = async (name: string) => (await readFixture(name)) as Json;
    const notFound = await h.queryRaw([{
      md5: "c768072380e6c387da2e25f3e87ba7bc",
      features: ["te"],
    }]);
    const notFoundSample = await sample("responseNotFound.json");
    assertCovers(notFound.json, notFoundSample);
    const item = (notFound.json as Json).response as Json[];
    assert.deepEqual(keys(item[0].te), keys((notFoundSample.response as Json[])[0].te));

    const te = { reports: ["pdf", "xml", "summary"] };
    const up = await h.uploadRaw("a benign document", { features: ["te"], file_name: "a.pdf", te });
    assertCovers(up.json, await sample("uploadResponse.json"));
    const md5 = ((up.json as Json).response as Json).md5;
    const pending = await h.queryRaw([{ md5, features: ["te"], te }]);
    assertCovers(pending.json, await sample("responsePending.json"));

    await h.advanceClock(60_000);
    const found = await h.queryRaw([{ md5, features: ["te"], te }]);
    const foundSample = await sample("benignResponseFound.json");
    assertCovers(found.json, foundSample);
    const [foundItem] = (found.json as Json).response as Json[];
    // The same keys as the published benign answer: no summary_report at all.
    assert.deepEqual(keys(foundItem.te), keys((foundSample.response as Json[])[0].te));

    // Threat Extraction asked with te: the TEX upload sample. (TEXResponseNotFound's
    // te has confidence and severity that responseNotFound's lacks: the samples
    // disagree, and the emulator follows the te-only one.)
    const tex = { features: ["extraction", "te"], extraction: { method: "pdf" } };
    const texUp = await h.uploadRaw("a document to extract", { file_name: "b.pdf", ...tex });
    assertCovers(texUp.json, await sample("TEXUploadResponse.json"));
  });
});

/** One request as it crossed the wire. */
interface Recorded {
  path: string;
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
}

/** An HTTPS proxy in front of `target` that keeps every request it passes on. */
async function recordingProxy(target: string) {
  const recorded: Recorded[] = [];
  const client = Deno.createHttpClient({ caCerts: [CA_PEM] });
  const tls = new URL("../fixtures/tls/", import.meta.url);
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    cert: await Deno.readTextFile(new URL("emulator.pem", tls)),
    key: await Deno.readTextFile(new URL("emulator.key", tls)),
    onListen: () => {},
  }, async (req) => {
    const url = new URL(req.url);
    const body = await req.bytes();
    const contentType = req.headers.get("content-type") ?? "";
    recorded.push({ path: url.pathname, contentType, body });
    const headers = new Headers(req.headers);
    headers.delete("host");
    const res = await fetch(`${target}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.method === "GET" ? undefined : body,
      client,
    });
    return new Response(await res.bytes(), { status: res.status, headers: res.headers });
  });
  return {
    port: server.addr.port,
    recorded,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      client.close();
    },
  };
}

/** Checks one recorded request with the emulator's own reading; returns what it was. */
async function checkRecorded(r: Recorded): Promise<string> {
  if (r.path.endsWith("/file/query")) {
    parseCloudBody(JSON.parse(new TextDecoder().decode(r.body)), "query");
    return "query";
  }
  if (r.path.endsWith("/file/upload")) {
    const upload = await parseUpload(new Blob([r.body]).stream(), r.contentType);
    assert.ok(upload.file, "an upload has a file part");
    assert.ok(upload.requestJson !== null, "an upload has a request part");
    parseCloudBody(JSON.parse(upload.requestJson), "upload");
    return "upload";
  }
  if (r.path === "/UserCheck/TPAPI") {
    const names: string[] = [];
    await readTpapiBody(new Blob([r.body]).stream(), { keepBytes: 1 << 20 }, (object) => {
      assert.equal(object.file?.error, undefined, "file_enc_data is base64");
      names.push(parseGatewayObject(object.value, object.path).request_name);
    });
    return names.join(",");
  }
  return r.path.split("/").at(-1)!;
}

async function recordScan(gateway: boolean): Promise<string[]> {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, {
    "a/memo.txt": "a benign memo",
    "b/bad.doc": marked("MALICIOUS", "contract"),
  });
  const emulator = await startEmulator({ port: 0, emulationMs: 20, earlyMs: 5, apiKey: "k" });
  try {
    await using proxy = await recordingProxy(emulator.url);
    const keyFile = join(dir.path, "key");
    await Deno.writeTextFile(keyFile, "k\n");
    const target = gateway
      ? ["--gateway", `127.0.0.1:${proxy.port}`, "--report-port", String(proxy.port)]
      : ["--ip", `127.0.0.1:${proxy.port}`];
    const run = await within(
      60,
      captureScan([
        ...sortFlags(f),
        ...target,
        ...(gateway ? ["--api-key-file", keyFile] : []),
        "--ca-cert",
        CA_FILE,
        "--poll-interval",
        "0.03",
      ]),
    );
    assert.equal(run.code, 1, run.err.join("\n"));
    const kinds: string[] = [];
    for (const r of proxy.recorded) kinds.push(await checkRecorded(r));
    return kinds;
  } finally {
    await emulator.close();
  }
}

Deno.test("contract: te-scan's recorded cloud-format requests pass the emulator's checker", async () => {
  const kinds = await recordScan(false);
  for (const expected of ["query", "upload", "download"]) {
    assert.ok(kinds.includes(expected), `${expected} among ${kinds.join(" ")}`);
  }
});

Deno.test("contract: te-scan's recorded gateway requests pass the emulator's checker", async () => {
  const kinds = await recordScan(true);
  for (const expected of ["QueryFile", "UploadFile", "download"]) {
    assert.ok(kinds.includes(expected), `${expected} among ${kinds.join(" ")}`);
  }
});

Deno.test("contract: malformed requests are refused with 1008 naming the field", async () => {
  await withEmulator({}, async (h) => {
    const wrongType = await h.queryRaw([{ md5: "0".repeat(32), te: { reports: "summary" } }]);
    assert.equal(wrongType.status, 400);
    const status = ((wrongType.json as Json).response as Json).status as Json;
    assert.equal(status.code, 1008);
    assert.match(String(status.message), /request\[0\]\.te\.reports: expected an array of strings/);

    const scalar = await h.postJson("/tecloud/api/v1/file/query", { request: "md5" });
    assert.equal(scalar.status, 400);
    assert.match(scalar.text, /request: expected an object or an array of objects/);

    const { items } = await h.tpapi([{
      protocol_version: "1.1",
      api_key: "k",
      request_name: "QueryFile",
      md5: "0".repeat(32),
      features: "te",
    }, { protocol_version: "1.1", request_name: "QueryFile", md5: "0".repeat(32) }]);
    assert.deepEqual(items.map((i) => i.te?.status.code), [1008, 1008]);
    assert.match(items[0].te?.status.message ?? "", /features: expected an array of strings/);
    assert.match(items[1].te?.status.message ?? "", /request\[1\]\.api_key: missing/);
  });
});

Deno.test("contract: lib/emulator/ imports nothing from lib/transport/", async () => {
  const dir = new URL("../../lib/emulator/", import.meta.url);
  const offenders: string[] = [];
  let files = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".ts")) continue;
    files++;
    const text = await Deno.readTextFile(new URL(entry.name, dir));
    for (const match of text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)) {
      if (match[1].includes("/transport/")) offenders.push(`${entry.name}: ${match[1]}`);
    }
  }
  assert.ok(files > 20, `read ${files} files`);
  assert.deepEqual(offenders, []);
});
