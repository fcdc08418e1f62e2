import assert from "node:assert/strict";
import { parseResponseBody } from "../../lib/transport/protocol.ts";
import { FaultQueue, parseFaults, randomFault } from "../../lib/emulator/faults.ts";
import { seededRandom } from "../../lib/emulator/rng.ts";
import { CA_PEM, withEmulator } from "./helpers.ts";

const MD5 = "0123456789abcdef0123456789abcdef";

Deno.test("parseFaults validates and fills defaults", () => {
  const [fault] = parseFaults({ faults: [{ kind: "http500" }] });
  assert.deepEqual(fault, { kind: "http500", path: "any", times: 1 });
  assert.throws(() => parseFaults({ faults: [{ kind: "meteor" }] }), /kind: expected one of/);
  assert.throws(() => parseFaults({ faults: [{ kind: "code" }] }), /code: an integer is required/);
  assert.throws(() => parseFaults({ faults: [{ kind: "delay" }] }), /delayMs/);
  assert.throws(() => parseFaults({ faults: [{ kind: "reset", times: 0 }] }), /times/);
  assert.throws(() => parseFaults({}), /faults request\.faults: missing/);
});

Deno.test("FaultQueue matches paths in order and uses faults up", () => {
  const queue = new FaultQueue();
  queue.add(parseFaults({
    faults: [
      { kind: "http503", path: "upload" },
      { kind: "garbage", path: "any", times: 2 },
      { kind: "scrub", code: 3 },
    ],
  }));
  assert.equal(queue.take("upload")?.kind, "http503");
  assert.equal(queue.take("upload")?.kind, "garbage");
  assert.equal(queue.take("query")?.kind, "garbage");
  assert.equal(queue.take("query"), undefined, "scrub faults are not taken by other routes");
  assert.equal(queue.takeScrub()?.code, 3);
  assert.equal(queue.pending(), 0);
});

Deno.test("randomFault is repeatable for a seed and respects the rate", () => {
  const kinds = (seed: number) => {
    const random = seededRandom(seed);
    return Array.from({ length: 200 }, () => randomFault(0.3, random)?.kind ?? "-");
  };
  assert.deepEqual(kinds(7), kinds(7));
  const failed = kinds(7).filter((k) => k !== "-").length;
  assert.ok(failed > 30 && failed < 90, `${failed} of 200 at rate 0.3`);
  assert.ok(new Set(kinds(7)).size === 4, "500, 503 and reset all occur");
  const never = seededRandom(1);
  assert.ok(Array.from({ length: 100 }).every(() => randomFault(0, never) === undefined));
});

Deno.test("queued HTTP faults are each used once, then requests succeed", async () => {
  await withEmulator({}, async (h) => {
    await h.faults([
      { kind: "http500", path: "query" },
      { kind: "http503", path: "query" },
      { kind: "html", path: "query" },
      { kind: "garbage", path: "query" },
    ]);
    const r500 = await h.queryRaw([{ md5: MD5 }]);
    assert.equal(r500.status, 500);
    assert.equal(
      (r500.json as { response: { status: { code: number } } }).response.status.code,
      1009,
    );
    const r503 = await h.queryRaw([{ md5: MD5 }]);
    assert.equal(r503.status, 503);
    const html = await h.queryRaw([{ md5: MD5 }]);
    assert.equal(html.status, 503);
    assert.match(html.headers.get("content-type") ?? "", /text\/html/);
    assert.match(html.text, /<html>/);
    const garbage = await h.queryRaw([{ md5: MD5 }]);
    assert.equal(garbage.status, 200);
    assert.equal(garbage.json, undefined, "the body is not JSON");
    const fine = await h.queryRaw([{ md5: MD5 }]);
    assert.equal(fine.status, 200);
    assert.equal(parseResponseBody(fine.json, "answer").items[0].status.code, 1004);
    const stats = await h.stats();
    assert.equal(stats.faults_injected, 4);
    assert.equal(stats.queries, 1, "faulted requests are not served");
  });
});

Deno.test("a path-specific fault waits for its route", async () => {
  await withEmulator({}, async (h) => {
    await h.faults([{ kind: "http500", path: "upload" }]);
    assert.equal((await h.queryRaw([{ md5: MD5 }])).status, 200);
    assert.equal((await h.uploadRaw("fault on upload")).status, 500);
    assert.equal((await h.uploadRaw("fault on upload")).status, 200);
  });
});

Deno.test("code fault: a well-formed answer with that code for every object", async () => {
  await withEmulator({ emulationMs: 0 }, async (h) => {
    const up = await h.upload("known before the fault");
    await h.faults([{ kind: "code", path: "query", code: 1009 }]);
    const items = await h.queryMany([{ md5: up.md5 }, { md5: MD5, features: ["te", "av"] }]);
    assert.deepEqual(items.map((i) => [i.status.code, i.te?.status.code]), [
      [1009, 1009],
      [1009, 1009],
    ]);
    assert.equal(items[1].av?.status.code, 1009);
    assert.equal(items[0].md5, up.md5);
    const after = await h.query({ md5: up.md5 });
    assert.equal(after.status.code, 1001);
    await h.faults([{ kind: "code", path: "upload", code: 1011 }]);
    const refused = await h.upload("upload under a code fault");
    assert.equal(refused.status.code, 1011);
    const lookup = await h.query({ md5: refused.md5 });
    assert.equal(lookup.status.code, 1004, "a faulted upload is not registered");
  });
});

Deno.test("code fault on a download answers a JSON status instead of the file", async () => {
  await withEmulator({}, async (h) => {
    await h.faults([{ kind: "code", path: "download", code: 1009 }]);
    const r = await h.download("any-id");
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      response: {
        status: {
          code: 1009,
          label: "INTERNAL_ERROR",
          message: "Internal error, try again later.",
        },
      },
    });
    assert.equal((await h.download("any-id")).status, 404, "used once");
  });
});

Deno.test("reset fault: the client sees a network error (HTTP/2 and HTTP/1.1)", async () => {
  await withEmulator({}, async (h) => {
    await h.faults([{ kind: "reset", path: "query", times: 2 }]);
    // fetch negotiates HTTP/2: the stream is reset before any header.
    await assert.rejects(h.queryRaw([{ md5: MD5 }]), TypeError);
    const http1 = Deno.createHttpClient({ caCerts: [CA_PEM], http2: false });
    try {
      // Over HTTP/1.1 the headers go out, then the connection drops mid-body.
      await assert.rejects(async () => {
        const res = await fetch(`${h.emulator.url}/tecloud/api/v1/file/query`, {
          method: "POST",
          body: JSON.stringify({ request: [{ md5: MD5 }] }),
          client: http1,
        });
        await res.text();
      }, TypeError);
    } finally {
      http1.close();
    }
    assert.equal((await h.queryRaw([{ md5: MD5 }])).status, 200, "the server keeps serving");
    assert.equal((await h.stats()).faults_injected, 2);
  });
});

Deno.test("truncate fault: the real answer cut in half", async () => {
  await withEmulator({}, async (h) => {
    await h.faults([{ kind: "truncate", path: "query" }]);
    const cut = await h.queryRaw([{ md5: MD5 }]);
    const whole = await h.queryRaw([{ md5: MD5 }]);
    assert.equal(cut.status, 200);
    assert.equal(cut.json, undefined, "half a JSON text does not parse");
    assert.ok(whole.text.startsWith(cut.text));
    assert.equal(cut.bytes.length, Math.floor(whole.bytes.length / 2));
    assert.equal((await h.stats()).faults_injected, 1);
  });
});

Deno.test("delay fault: the answer comes no sooner than delayMs", async () => {
  await withEmulator({}, async (h) => {
    await h.faults([{ kind: "delay", path: "any", delayMs: 150 }]);
    const started = performance.now();
    const r = await h.queryRaw([{ md5: MD5 }]);
    const elapsed = performance.now() - started;
    assert.equal(r.status, 200);
    assert.ok(elapsed >= 140, `answered after ${elapsed.toFixed(0)} ms`);
    assert.equal((await h.queryRaw([{ md5: MD5 }])).status, 200);
    assert.equal((await h.stats()).faults_injected, 1, "used once");
  });
});

Deno.test("fail rate with a seed injects a repeatable share of faults", async () => {
  const outcomes = async () => {
    const seen: string[] = [];
    await withEmulator({ failRate: 0.5, seed: 1234 }, async (h) => {
      for (let i = 0; i < 30; i++) {
        try {
          seen.push(String((await h.queryRaw([{ md5: MD5 }])).status));
        } catch {
          seen.push("network error");
        }
      }
      const stats = await h.stats();
      assert.equal(stats.faults_injected, seen.filter((s) => s !== "200").length);
    });
    return seen;
  };
  const first = await outcomes();
  assert.deepEqual(await outcomes(), first, "the same seed fails the same requests");
  const failures = first.filter((s) => s !== "200");
  assert.ok(failures.length >= 5 && failures.length <= 25, `${failures.length} of 30 failed`);
  assert.ok(failures.every((s) => ["500", "503", "network error"].includes(s)), String(failures));
});
