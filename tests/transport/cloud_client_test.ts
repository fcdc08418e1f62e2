import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AuthError,
  CloudClient,
  contentDispositionName,
  HttpStatusError,
} from "../../lib/transport/cloud_client.ts";
import {
  AnswerTooLargeError,
  HttpClient,
  NetworkError,
  TlsError,
} from "../../lib/transport/http.ts";
import { ProtocolError } from "../../lib/transport/validate.ts";
import { DEFAULT_CERT_PEM, DEFAULT_KEY_PEM } from "../../lib/emulator/mod.ts";
import { CA_FILE, tempDir } from "../helpers.ts";

const FAST_RETRY = { attempts: 3, baseMs: 1, maxMs: 5 };
const UPLOAD_ANSWER = {
  response: { status: { code: 1002, label: "UPLOAD_SUCCESS", message: "" }, md5: "m" },
};

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  bodyBytes: number;
}

/** An HTTPS server with the emulator's certificate on a free loopback port. */
function serveTls(handler: (request: Request) => Response | Promise<Response>) {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: DEFAULT_CERT_PEM,
    key: DEFAULT_KEY_PEM,
    onListen() {},
  }, handler);
}

/** A real HTTPS server answering with `answer(request, n)` and recording what it saw. */
async function withServer(
  answer: (request: Request, n: number) => Response | Promise<Response>,
  body: (client: CloudClient, seen: Seen[], port: number) => Promise<void>,
  options: { apiKey?: string; maxBodyBytes?: number } = {},
): Promise<void> {
  const seen: Seen[] = [];
  const server = serveTls(async (request) => {
    // A client that gives up mid-body (the file-changed test) leaves nothing to read.
    const bytes = await request.arrayBuffer().then((b) => b.byteLength, () => -1);
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: url.pathname + url.search,
      headers: request.headers,
      bodyBytes: bytes,
    });
    return answer(request, seen.length);
  });
  const http = new HttpClient(`https://127.0.0.1:${server.addr.port}`, {
    trust: { kind: "ca", caPem: [await Deno.readTextFile(CA_FILE)] },
    maxBodyBytes: options.maxBodyBytes,
  });
  const client = new CloudClient(http, { apiKey: options.apiKey, retry: FAST_RETRY });
  try {
    await body(client, seen, server.addr.port);
  } finally {
    http.close();
    await server.shutdown();
  }
}

Deno.test("uploads stream with a Content-Length, not chunked", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "big.bin");
  const size = 3 * 1024 * 1024 + 11;
  await Deno.writeFile(path, new Uint8Array(size).fill(7));
  await withServer(() => Response.json(UPLOAD_ANSWER), async (client, seen) => {
    const item = await client.upload({ path, size, name: "big.bin" }, { features: ["te"] });
    assert.equal(item.status.code, 1002);
    const upload = seen[0];
    assert.equal(upload.path, "/tecloud/api/v1/file/upload");
    assert.equal(Number(upload.headers.get("content-length")), upload.bodyBytes);
    assert.ok(upload.bodyBytes > size, "multipart framing around the file");
    assert.equal(upload.headers.get("transfer-encoding"), null);
    assert.match(upload.headers.get("content-type") ?? "", /^multipart\/form-data; boundary=/);
  });
});

Deno.test("a file that changed after hashing is not uploaded as if whole", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "grew.bin");
  await Deno.writeFile(path, new Uint8Array(100));
  await withServer(() => Response.json(UPLOAD_ANSWER), async (client) => {
    await assert.rejects(
      client.upload({ path, size: 50, name: "grew.bin" }, {}),
      /changed while being scanned/,
    );
  });
});

Deno.test("the API key goes bare in Authorization; te_cookie is sent back", async () => {
  await withServer(
    (_request, n) =>
      Response.json({ response: [] }, {
        headers: n === 1 ? { "set-cookie": "te_cookie=abc123; Path=/" } : {},
      }),
    async (client, seen) => {
      await client.query([{ sha1: "a" }]);
      await client.query([{ sha1: "b" }]);
      assert.equal(seen[0].headers.get("authorization"), "secret-key");
      assert.equal(seen[0].headers.get("cookie"), null);
      assert.equal(seen[1].headers.get("cookie"), "te_cookie=abc123");
    },
    { apiKey: "secret-key" },
  );
});

Deno.test("HTTP 503 and garbage are retried; a later good answer wins", async () => {
  await withServer(
    (_request, n) =>
      n === 1
        ? new Response("<html>busy</html>", { status: 503 })
        : n === 2
        ? new Response("not json at all")
        : Response.json({ response: [{ status: { code: 1004 }, sha1: "a" }] }),
    async (client, seen) => {
      const answer = await client.query([{ sha1: "a" }]);
      assert.equal(answer.items[0].status.code, 1004);
      assert.equal(seen.length, 3);
    },
  );
});

Deno.test("permanent HTTP errors are not retried and name the status", async () => {
  await withServer(() => new Response("nope", { status: 404 }), async (client, seen) => {
    await assert.rejects(client.query([{ sha1: "a" }]), (error) => {
      assert.ok(error instanceof HttpStatusError);
      assert.match(error.message, /HTTP 404/);
      return true;
    });
    assert.equal(seen.length, 1);
  });
  await withServer(() => new Response("", { status: 403 }), async (client) => {
    await assert.rejects(client.query([]), AuthError);
  });
});

Deno.test("a hostile answer: wrong types after retries, oversized bodies refused", async () => {
  await withServer(
    () => Response.json({ response: [{ status: { code: "1001" } }] }),
    async (client, seen) => {
      await assert.rejects(client.query([{ sha1: "a" }]), ProtocolError);
      assert.equal(seen.length, FAST_RETRY.attempts);
    },
  );
  await withServer(
    () => new Response("x".repeat(4096)),
    async (client) => {
      await assert.rejects(client.download("id"), AnswerTooLargeError);
    },
    { maxBodyBytes: 1024 },
  );
});

Deno.test("downloads keep the Content-Disposition name", async () => {
  await withServer(
    () =>
      new Response("PDFDATA", {
        headers: { "content-disposition": 'attachment; filename="r e.pdf"' },
      }),
    async (client, seen) => {
      const download = await client.download("a b");
      assert.equal(download.fileName, "r e.pdf");
      assert.equal(new TextDecoder().decode(download.bytes), "PDFDATA");
      assert.equal(seen[0].path, "/tecloud/api/v1/file/download?id=a%20b");
    },
  );
  assert.equal(contentDispositionName("attachment; filename=plain.xml"), "plain.xml");
  assert.equal(contentDispositionName("attachment; filename*=UTF-8''r%C3%A9.pdf"), "ré.pdf");
  assert.equal(contentDispositionName(null), undefined);
});

Deno.test("a certificate signed by another CA is refused with a TLS error", async () => {
  const server = serveTls(() => new Response("{}"));
  // The leaf itself is no CA: trusting it as one must fail.
  const http = new HttpClient(`https://127.0.0.1:${server.addr.port}`, {
    trust: { kind: "ca", caPem: [DEFAULT_CERT_PEM] },
  });
  try {
    await assert.rejects(new CloudClient(http, { retry: FAST_RETRY }).query([]), (error) => {
      assert.ok(error instanceof TlsError);
      assert.match(error.message, /not trusted/);
      return true;
    });
  } finally {
    http.close();
    await server.shutdown();
  }
});

Deno.test("an answer that stalls after its headers fails after the idle timeout", async () => {
  const server = serveTls(() =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"response": ['));
        },
      }),
    )
  );
  const http = new HttpClient(`https://127.0.0.1:${server.addr.port}`, {
    trust: { kind: "ca", caPem: [await Deno.readTextFile(CA_FILE)] },
    timeoutMs: 200,
  });
  try {
    const client = new CloudClient(http, { retry: { attempts: 1, baseMs: 1, maxMs: 1 } });
    await assert.rejects(client.query([]), (error) => {
      assert.ok(error instanceof NetworkError, String(error));
      assert.match(error.message, /answer stalled \(no data for 0\.2 s\)|aborted/);
      return true;
    });
  } finally {
    http.close();
  }
  await server.shutdown();
});
