import assert from "node:assert/strict";
import { Reporter } from "../../lib/cli/console.ts";
import { formatSize } from "../../lib/fs/size.ts";
import { type FileRecord, zeroCounts } from "../../lib/pipeline/dispose.ts";
import { captureTerminal } from "../helpers.ts";

const benign: FileRecord = {
  relPath: "a/ok.txt",
  state: "benign",
  size: 3,
  disposition: "moved",
  destination: "/out/a/ok.txt",
};
const early: FileRecord = {
  relPath: "b.exe",
  state: "malicious",
  size: 9,
  disposition: "early",
  destination: "/q/b.exe",
};
const failed: FileRecord = {
  relPath: "c.bin",
  state: "error",
  size: 1,
  disposition: "moved",
  destination: "/err/c.bin",
  reason: "1007 FILE_TYPE_NOT_SUPPORTED",
};

async function capture(json: boolean, quiet: boolean) {
  const { terminal, lines } = await captureTerminal();
  const reporter = new Reporter({ json, quiet, terminal });
  return {
    reporter,
    get out() {
      return lines("out");
    },
    get err() {
      return lines("err");
    },
  };
}

Deno.test("plain lines: state, path, destination and reason", async () => {
  const run = await capture(false, false);
  for (const record of [benign, early, failed]) run.reporter.file(record);
  assert.deepEqual(run.out, [
    "BENIGN     a/ok.txt -> /out/a/ok.txt",
    "MALICIOUS* b.exe -> /q/b.exe",
    "ERROR      c.bin -> /err/c.bin  (1007 FILE_TYPE_NOT_SUPPORTED)",
  ]);
});

Deno.test("--quiet keeps only malicious files and errors", async () => {
  const run = await capture(false, true);
  for (const record of [benign, early, failed]) run.reporter.file(record);
  assert.equal(run.out.length, 2);
  assert.ok(!run.out.some((l) => l.includes("a/ok.txt")));
});

Deno.test("--json: one object per event; warnings go to stdout as events too", async () => {
  const run = await capture(true, false);
  const { reporter } = run;
  reporter.file(early);
  reporter.file(benign);
  reporter.warn("slow appliance");
  reporter.finish({
    counts: { ...zeroCounts(), benign: 1, uploaded: 1, bytes: 3 },
    seconds: 1,
    logPath: "/rep/te-scan.log.jsonl",
    summaryPath: "/rep/summary.json",
  });
  const events = run.out.map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.event), ["early", "file", "warning"]);
  assert.equal(events[1].relPath, "a/ok.txt");
  assert.deepEqual(run.err, [], "nothing but JSON on stdout, nothing on stderr");
});

Deno.test("the closing table lists counts and where the log is", async () => {
  const run = await capture(false, false);
  run.reporter.finish({
    counts: {
      benign: 3,
      malicious: 1,
      error: 2,
      skipped: 0,
      uploaded: 4,
      duplicates: 1,
      bytes: 1536,
      uncontained: 0,
    },
    seconds: 2.25,
    logPath: "/rep/te-scan.log.jsonl",
    summaryPath: "/rep/summary.json",
  });
  const table = run.out.join("\n");
  assert.match(table, /files\s+6/);
  assert.match(table, /malicious\s+1/);
  assert.match(table, /scanned\s+1\.5 KiB/);
  assert.match(table, /log\s+\/rep\/te-scan\.log\.jsonl/);
  assert.equal(formatSize(512), "512 B");
  assert.equal(formatSize(3 * 1024 ** 3), "3.0 GiB");
});
