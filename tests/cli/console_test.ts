import assert from "node:assert/strict";
import { Reporter } from "../../lib/cli/console.ts";
import { formatSize } from "../../lib/fs/size.ts";
import type { FileRecord } from "../../lib/pipeline/dispose.ts";

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

function capture(json: boolean, quiet: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const reporter = new Reporter({
    json,
    quiet,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    interactive: false,
  });
  return { reporter, out, err };
}

Deno.test("plain lines: state, path, destination and reason", () => {
  const { reporter, out } = capture(false, false);
  for (const record of [benign, early, failed]) reporter.file(record);
  assert.deepEqual(out, [
    "BENIGN     a/ok.txt -> /out/a/ok.txt",
    "MALICIOUS* b.exe -> /q/b.exe",
    "ERROR      c.bin -> /err/c.bin  (1007 FILE_TYPE_NOT_SUPPORTED)",
  ]);
});

Deno.test("--quiet keeps only malicious files and errors", () => {
  const { reporter, out } = capture(false, true);
  for (const record of [benign, early, failed]) reporter.file(record);
  assert.equal(out.length, 2);
  assert.ok(!out.some((l) => l.includes("a/ok.txt")));
});

Deno.test("--json: one object per event; warnings go to stdout as events too", () => {
  const { reporter, out, err } = capture(true, false);
  reporter.file(early);
  reporter.file(benign);
  reporter.warn("slow appliance");
  reporter.finish({
    counts: { benign: 1, malicious: 0, error: 0, skipped: 0, uploaded: 1, duplicates: 0, bytes: 3 },
    seconds: 1,
    lines: [],
  });
  const events = out.map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.event), ["early", "file", "warning"]);
  assert.equal(events[1].relPath, "a/ok.txt");
  assert.deepEqual(err, [], "nothing but JSON on stdout, nothing on stderr");
});

Deno.test("the closing table lists counts and where the log is", () => {
  const { reporter, out } = capture(false, false);
  reporter.finish({
    counts: {
      benign: 3,
      malicious: 1,
      error: 2,
      skipped: 0,
      uploaded: 4,
      duplicates: 1,
      bytes: 1536,
    },
    seconds: 2.25,
    lines: [["log", "/rep/te-scan.log.jsonl"]],
  });
  const table = out.join("\n");
  assert.match(table, /files\s+6/);
  assert.match(table, /malicious\s+1/);
  assert.match(table, /scanned\s+1\.5 KiB/);
  assert.match(table, /log\s+\/rep\/te-scan\.log\.jsonl/);
  assert.equal(formatSize(512), "512 B");
  assert.equal(formatSize(3 * 1024 ** 3), "3.0 GiB");
});
