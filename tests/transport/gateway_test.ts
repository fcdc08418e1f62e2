// The gateway transport over real HTTPS against the emulator's TPAPI.
import assert from "node:assert/strict";
import { join } from "node:path";
import { AuthError, CloudClient } from "../../lib/transport/cloud_client.ts";
import { type GatewayOptions, GatewayTransport, TPAPI_PATH } from "../../lib/transport/gateway.ts";
import { HttpClient } from "../../lib/transport/http.ts";
import { PARTIAL_PREFIX } from "../../lib/fs/move.ts";
import { hashFile } from "../../lib/pipeline/hash.ts";
import { DEFAULT_CERT_PEM, DEFAULT_KEY_PEM, eicarText } from "../../lib/emulator/mod.ts";
import type { UploadFile } from "../../lib/transport/transport.ts";
import { CA_PEM, type Harness, marked, withEmulator } from "../emulator/helpers.ts";
import { tempDir } from "../helpers.ts";

const KEY = "gw-key-5f1c9e";
const FAST_RETRY = { attempts: 2, baseMs: 1, maxMs: 5 };

function gatewayAt(url: string, options: Partial<GatewayOptions> = {}): GatewayTransport {
  const http = new HttpClient(url, { trust: { kind: "ca", caPem: [CA_PEM] } });
  return new GatewayTransport(
    new CloudClient(http, { apiPath: TPAPI_PATH, retry: FAST_RETRY }),
    new CloudClient(http, { retry: FAST_RETRY }),
    {
      apiKey: KEY,
      features: ["te", "te_eb", "av"],
      reports: ["summary"],
      batchSize: 100,
      ...options,
    },
  );
}

async function fileWith(dir: string, name: string, text: string): Promise<UploadFile> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, text);
  const { sha1, md5 } = await hashFile(path);
  return { path, name, size: (await Deno.stat(path)).size, sha1, md5 };
}

async function partials(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(PARTIAL_PREFIX)) names.push(entry.name);
  }
  return names;
}

Deno.test("gateway preflight: the right key passes; a wrong or missing one is one line naming --api-key-file", async () => {
  await withEmulator({ apiKey: KEY }, async (h) => {
    const good = gatewayAt(h.emulator.url);
    await good.preflight();
    good.close();
    for (const apiKey of ["not-the-key-9a7e", ""]) {
      const gateway = gatewayAt(h.emulator.url, { apiKey });
      const error = await gateway.preflight().then(() => undefined, (e) => e as Error);
      gateway.close();
      assert.ok(error instanceof AuthError, String(error));
      assert.match(error.message, /1010 FORBIDDEN/);
      assert.match(error.message, /--api-key-file/);
      assert.doesNotMatch(error.message, /\n/);
      if (apiKey) assert.ok(!error.message.includes(apiKey));
      else assert.match(error.message, /no API key was given/);
    }
  });
});

Deno.test("gateway query: a batch in one request, every answer matched to its file by digest", async () => {
  await using dir = await tempDir();
  await withEmulator({ apiKey: KEY, emulationMs: 0, earlyMs: 0 }, async (h) => {
    const gateway = gatewayAt(h.emulator.url);
    const a = await fileWith(dir.path, "a.txt", "plain a");
    const b = await fileWith(dir.path, "b.txt", "plain b");
    const c = await fileWith(dir.path, "c.txt", "never uploaded");
    await gateway.upload(a);
    await gateway.upload(b);
    const before = await h.stats();
    const answers = await gateway.query([c, b, a]);
    const after = await h.stats();
    assert.equal(after.tpapi_requests - before.tpapi_requests, 1);
    assert.equal(after.tpapi_query_items - before.tpapi_query_items, 3);
    assert.equal(answers[0].item?.status.label, "NOT_FOUND");
    assert.equal(answers[1].item?.sha1, b.sha1);
    assert.equal(answers[2].item?.sha1, a.sha1);
    assert.equal(answers[2].item?.te?.combined_verdict?.toLowerCase(), "benign");
    assert.equal(answers[2].item?.av?.status.label, "FOUND");
    gateway.close();
  });
});

Deno.test("gateway upload with extraction: the cleaned copy is decoded to a temporary file", async () => {
  await using dir = await tempDir();
  const clean = join(dir.path, "clean");
  await Deno.mkdir(clean);
  await withEmulator({ apiKey: KEY }, async (h) => {
    const gateway = gatewayAt(h.emulator.url, { extract: { method: 1 }, cleanedDir: clean });
    const doc = await fileWith(dir.path, "report.v2.docm", marked("ACTIVE-CONTENT", "gw1"));
    const { item, scrub } = await gateway.upload(doc);
    assert.equal(item.sha1, doc.sha1);
    assert.equal(scrub?.code, 0);
    assert.equal(scrub?.name, "OK");
    assert.equal(scrub?.outputName, "report.cleaned.v2.docm");
    assert.ok(scrub?.cleanedPath?.startsWith(join(clean, PARTIAL_PREFIX)));
    const cleaned = await Deno.readTextFile(scrub!.cleanedPath!);
    assert.equal(cleaned, "unique gw1\n[removed by te-scan emulator]\nend\n");
    assert.equal("file_enc_data" in scrub!.raw, false);
    assert.equal(scrub?.raw.protection_type, "Content Removal");

    const plain = await fileWith(dir.path, "plain.pdf", "nothing active here");
    const skipped = await gateway.upload(plain);
    assert.equal(skipped.scrub?.code, 4);
    assert.equal(skipped.scrub?.name, "Skipped");
    assert.equal(skipped.scrub?.message, "The file doesn't include cleanable parts");
    assert.equal(skipped.scrub?.cleanedPath, undefined);
    assert.deepEqual(await partials(clean), [scrub!.cleanedPath!.slice(clean.length + 1)]);
    gateway.close();
  });
});

Deno.test("gateway upload to PDF, codes the guide does not name, and no scrub_options without --extract", async () => {
  await using dir = await tempDir();
  await withEmulator({ apiKey: KEY }, async (h) => {
    const pdf = gatewayAt(h.emulator.url, { extract: { method: 2 }, cleanedDir: dir.path });
    const memo = await fileWith(dir.path, "memo.txt", "a memo");
    const converted = await pdf.upload(memo);
    assert.equal(converted.scrub?.code, 0);
    assert.equal(converted.scrub?.outputName, "memo.cleaned.pdf");
    const bytes = await Deno.readFile(converted.scrub!.cleanedPath!);
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 5)), "%PDF-");

    for (const code of [12, 99, -1]) {
      await h.faults([{ kind: "scrub", code, path: "tpapi" }]);
      const other = await fileWith(dir.path, `other${code}.txt`, `other ${code}`);
      const { scrub } = await pdf.upload(other);
      assert.equal(scrub?.code, code);
      assert.equal(scrub?.name, `unknown code ${code}`);
      assert.equal(scrub?.cleanedPath, undefined);
    }
    pdf.close();

    const before = (await h.stats()).scrubs;
    const plain = gatewayAt(h.emulator.url);
    const answer = await plain.upload(
      await fileWith(dir.path, "x.docm", marked("ACTIVE-CONTENT", "x")),
    );
    assert.equal(answer.scrub, undefined);
    assert.equal((await h.stats()).scrubs, before, "no scrub_options were sent");
    plain.close();
  });
});

async function reportOf(h: Harness, gateway: GatewayTransport, file: UploadFile): Promise<string> {
  await gateway.upload(file);
  h.emulator.advanceClock(60_000);
  const [answer] = await gateway.query([file]);
  const id = answer.item?.te?.summary_report;
  assert.ok(id, JSON.stringify(answer));
  return id;
}

Deno.test("gateway reports come from the report port's download route, with no key", async () => {
  await using dir = await tempDir();
  await withEmulator({ apiKey: KEY }, async (h) => {
    const gateway = gatewayAt(h.emulator.url);
    const eicar = await fileWith(dir.path, "eicar.com", eicarText());
    const id = await reportOf(h, gateway, eicar);
    const download = await gateway.download(id);
    assert.ok(download.bytes.length > 0);
    assert.ok(download.fileName);
    gateway.close();
  });
});

Deno.test("an error that would quote the API key has it replaced", async () => {
  // A server that echoes the request it refused, as a broken proxy might.
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: DEFAULT_CERT_PEM,
    key: DEFAULT_KEY_PEM,
    onListen() {},
  }, async (request) => new Response(await request.text(), { status: 400 }));
  try {
    const gateway = gatewayAt(`https://127.0.0.1:${server.addr.port}`);
    const error = await gateway.preflight().then(() => undefined, (e) => e as Error);
    gateway.close();
    assert.ok(error);
    assert.match(error.message, /HTTP 400/);
    assert.match(error.message, /<api key>/);
    assert.ok(!error.message.includes(KEY));
  } finally {
    await server.shutdown();
  }
});
