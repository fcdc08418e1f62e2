import assert from "node:assert/strict";
import { Poller, uploadPollStage } from "../../lib/pipeline/upload_poll.ts";
import type { EarlyVerdict, Job, PipelineItem, Settled } from "../../lib/pipeline/types.ts";
import { Rotation } from "../../lib/transport/rotation.ts";
import type { ResponseItem } from "../../lib/transport/protocol.ts";
import type { Download } from "../../lib/transport/transport.ts";
import { benign, FakeTransport, pending } from "./fake_transport.ts";
import { eventually } from "../helpers.ts";

function job(sha1: string, target?: FakeTransport): Job {
  return {
    kind: "job",
    file: { path: `/in/${sha1}`, relPath: sha1, size: 1, mtimeMs: 0, sha1 },
    startedAt: 0,
    needsUpload: target === undefined,
    via: target,
  };
}

function poller(target: FakeTransport, options: { intervalMs?: number; timeoutMs?: number } = {}) {
  const settled: Settled[] = [];
  const early: EarlyVerdict[] = [];
  const controller = new AbortController();
  const rotation = new Rotation([target], { graceMs: 60_000 });
  const instance = new Poller({
    rotation,
    reports: [],
    concurrency: 64,
    pollIntervalMs: options.intervalMs ?? 10,
    timeoutMs: options.timeoutMs ?? 60_000,
    signal: controller.signal,
  }, (item: PipelineItem) => {
    if (item.kind === "settled") settled.push(item);
    if (item.kind === "early") early.push(item);
  });
  return { poller: instance, settled, early, controller, rotation };
}

Deno.test("a poll round for N pending files is one query for all of them", async () => {
  const target = new FakeTransport(4);
  const shas = Array.from({ length: 10 }, (_, i) => `s${i}`);
  for (const sha1 of shas) target.queryScript.set(sha1, [pending(sha1), benign(sha1)]);
  const { poller: p, settled, rotation } = poller(target);
  const loop = p.run();
  const tracked = shas.map((sha1) => p.track(job(sha1, target)));
  p.finish();
  await Promise.all(tracked);
  await loop;
  assert.deepEqual(target.calls, [`query ${shas.join(",")}`, `query ${shas.join(",")}`]);
  assert.equal(settled.length, 10);
  assert.ok(settled.every((s) => s.outcome.state === "benign"));
  assert.equal(p.size, 0, "settled files are forgotten");
  assert.equal(await rotation.pick(), target);
});

Deno.test("a file that hits its deadline settles as an error with the last answer", async () => {
  const target = new FakeTransport();
  target.queryScript.set("slow", [pending("slow")]);
  const { poller: p, settled } = poller(target, { intervalMs: 60_000, timeoutMs: 50 });
  const loop = p.run();
  const done = p.track(job("slow", target));
  p.finish();
  await done;
  await loop;
  assert.equal(settled.length, 1);
  assert.equal(settled[0].outcome.state, "error");
  assert.match(settled[0].outcome.reason ?? "", /no final verdict within 0 s .*1003 PENDING/);
});

Deno.test("an abort wakes the sleeping poller at once: the loop ends and every slot is released", async () => {
  const target = new FakeTransport();
  target.queryScript.set("long", [pending("long")]);
  const { poller: p, controller } = poller(target, { intervalMs: 60_000 });
  const loop = p.run();
  const tracked = p.track(job("long", target));
  // Let the first round happen: the poller then sleeps on a 60 s timer.
  await eventually(10, "a first poll round", () => target.calls.length > 0);
  controller.abort(new Error("interrupted"));
  await assert.rejects(loop, /interrupted/);
  await assert.rejects(tracked, /interrupted/);
});

Deno.test({
  name: "a poller woken early clears its timer: no timer outlives the run",
  // The op sanitizer (on by default, stated here because it is the assertion) fails this
  // test if a timer from an interrupted sleep is still pending when it ends.
  sanitizeOps: true,
  async fn() {
    const target = new FakeTransport();
    target.queryScript.set("waiting", [pending("waiting")]);
    target.uploadAnswers.set("fresh", benign("fresh"));
    const { poller: p, settled, controller } = poller(target, { intervalMs: 60_000 });
    const loop = p.run();
    const waiting = p.track(job("waiting", target));
    // After its first round the poller sleeps on a 60 s timer...
    await eventually(10, "a first poll round", () => target.calls.length > 0);
    // ...cut short twice: by an admission, then by that file's upload answer.
    await p.track(job("fresh"));
    assert.deepEqual(settled.map((s) => `${s.file.relPath} ${s.outcome.state}`), ["fresh benign"]);
    assert.deepEqual(target.calls, ["query waiting", "upload fresh"]);
    controller.abort(new Error("stopped"));
    await assert.rejects(loop, /stopped/);
    await assert.rejects(waiting, /stopped/);
  },
});

Deno.test("a freed slot starts the next upload before the next poll round", async () => {
  const target = new FakeTransport();
  // c keeps the poll rounds going; a is found at its first poll; b waits for a slot.
  target.queryScript.set("c", [pending("c"), pending("c"), benign("c")]);
  target.queryScript.set("a", [benign("a")]);
  target.uploadAnswers.set("b", benign("b"));
  const rotation = new Rotation([target], { graceMs: 60_000 });
  const stage = uploadPollStage({
    rotation,
    reports: [],
    concurrency: 2,
    pollIntervalMs: 1_000,
    timeoutMs: 600_000,
  });
  const items = ReadableStream.from<PipelineItem>([job("c", target), job("a"), job("b")]);
  const out = await Array.fromAsync(items.pipeThrough(stage));
  assert.deepEqual(out.map((i) => `${i.kind} ${i.file.relPath}`).sort(), [
    "settled a",
    "settled b",
    "settled c",
  ]);
  const foundA = target.calls.findIndex((call) => /^query .*\ba\b/.test(call));
  assert.equal(target.calls[foundA + 1], "upload b", target.calls.join("; "));
  assert.ok(target.calls.slice(foundA + 2).some((call) => /^query c/.test(call)), "c polled on");
  assert.equal(await rotation.pick(), target);
});

Deno.test("a file is first asked about once the files before it took their verdict", async () => {
  const target = new FakeTransport();
  target.emulationMs = 200;
  const rotation = new Rotation([target], { graceMs: 60_000 });
  const stage = uploadPollStage({
    rotation,
    reports: [],
    concurrency: 1,
    pollIntervalMs: 5_000,
    minRoundMs: 20,
    timeoutMs: 60_000,
  });
  const jobs = ["a", "b", "c"].map((sha1) => job(sha1));
  const out = await Array.fromAsync(ReadableStream.from<PipelineItem>(jobs).pipeThrough(stage));
  assert.equal(out.length, 3);
  const polls = (sha1: string) => target.calls.filter((c) => c === `query ${sha1}`).length;
  assert.ok(polls("a") >= 3, `the first file is asked every round until done: ${polls("a")}`);
  for (const sha1 of ["b", "c"]) {
    assert.ok(polls(sha1) <= 2, `${sha1}: asked ${polls(sha1)} times, not every round`);
  }
});

Deno.test("the upload's Threat Extraction result reaches the settled outcome and the response", async () => {
  const target = new FakeTransport();
  const scrub = { code: 4, name: "Skipped", raw: { scrub_result: 4, message: "Skipped" } };
  target.uploadScrubs.set("doc", scrub);
  target.queryScript.set("doc", [benign("doc")]);
  const { poller: p, settled } = poller(target);
  const loop = p.run();
  const done = p.track(job("doc"));
  p.finish();
  await done;
  await loop;
  assert.deepEqual(target.calls, ["upload doc", "query doc"]);
  assert.equal(settled[0].outcome.scrub, scrub);
  assert.deepEqual(settled[0].outcome.response?.scrub, scrub.raw);
});

Deno.test("an AV detection while te is pending quarantines early, naming the signature", async () => {
  const target = new FakeTransport();
  const found = { code: 1001, label: "FOUND" };
  const av = { status: found, malware_info: { signature_name: "EICAR-Test-File" } };
  target.queryScript.set("eicar", [
    { ...pending("eicar"), av },
    { ...pending("eicar"), av },
    { ...benign("eicar"), av },
  ]);
  const { poller: p, settled, early } = poller(target);
  const loop = p.run();
  const done = p.track(job("eicar", target));
  p.finish();
  await done;
  await loop;
  assert.equal(early.length, 1, "one early quarantine, however many answers repeat it");
  assert.equal(early[0].reason, "anti-virus: EICAR-Test-File; final verdict and report follow");
  assert.equal(settled[0].outcome.state, "malicious");
  assert.equal(settled[0].outcome.reason, "anti-virus: EICAR-Test-File");
  assert.equal(settled[0].outcome.early, true);
});

/** Reports that take a while to download: other requests overtake them. */
class SlowReports extends FakeTransport {
  override download(_id: string): Promise<Download> {
    return new Promise((resolve) => setTimeout(() => resolve({ bytes: new Uint8Array() }), 100));
  }
}

Deno.test("a file found on upload is not polled while its reports download: it settles once", async () => {
  // Found by the randomized-answer test (seed 231): the poll round answered FOUND
  // too, and the file was settled (and moved) twice.
  const target = new SlowReports();
  const found = { code: 1001, label: "FOUND" };
  const malicious: ResponseItem = {
    status: found,
    sha1: "m",
    te: { status: found, combined_verdict: "Malicious", summary_report: "r1" },
  };
  target.uploadAnswers.set("m", malicious);
  target.queryScript.set("m", [malicious]);
  // "o" keeps the poll rounds going while m's report downloads.
  target.queryScript.set("o", [pending("o")]);
  const settled: Settled[] = [];
  const rotation = new Rotation([target], { graceMs: 60_000 });
  const p = new Poller({
    rotation,
    reports: ["summary"],
    concurrency: 4,
    pollIntervalMs: 5,
    // o's deadline ends the test; m's download is well within it.
    timeoutMs: 250,
  }, (item: PipelineItem) => {
    if (item.kind === "settled") settled.push(item);
  });
  const loop = p.run();
  const tracked = [p.track(job("o", target)), p.track(job("m"))];
  p.finish();
  await Promise.all(tracked);
  await loop;
  assert.deepEqual(settled.filter((s) => s.file.relPath === "m").map((s) => s.outcome.state), [
    "malicious",
  ]);
  assert.ok(!target.calls.some((call) => /^query .*\bm\b/.test(call)), target.calls.join("; "));
});
