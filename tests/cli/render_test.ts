import assert from "node:assert/strict";
import {
  escapeControl,
  fitWidth,
  type ProgressGauges,
  renderClosingTable,
  renderFileLine,
  renderProgress,
} from "../../lib/cli/render.ts";
import { type FileRecord, zeroCounts } from "../../lib/pipeline/dispose.ts";

const ZERO = zeroCounts();
const IDLE: ProgressGauges = {
  found: 0,
  walkDone: false,
  hashing: 0,
  querying: 0,
  uploading: 0,
  emulating: 0,
};

Deno.test("a hostile file name cannot fake a line or move the cursor", () => {
  const name = "x\n\rBENIGN \x1b[2Kfake\x9b31m\x07\ufffd\u202e.txt";
  const line = renderFileLine({
    relPath: name,
    state: "error",
    size: 1,
    disposition: "moved",
    destination: `/err/${name}`,
    reason: "cannot read:\ngone",
  });
  assert.equal(
    line,
    "ERROR      x\\n\\rBENIGN \\x1b[2Kfake\\x9b31m\\x07\\u{fffd}\\u{202e}.txt" +
      " -> /err/x\\n\\rBENIGN \\x1b[2Kfake\\x9b31m\\x07\\u{fffd}\\u{202e}.txt" +
      "  (cannot read:\\ngone)",
  );
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x1f\x7f-\x9f\ufffd]/.test(line), "nothing left that acts on a terminal");
});

Deno.test("file lines: early quarantine, report folder, same content, reason, colour", () => {
  const early: FileRecord = {
    relPath: "b.exe",
    state: "malicious",
    size: 9,
    disposition: "early",
    destination: "/q/b.exe",
    reason: "te_eb early verdict; final verdict and report follow",
  };
  assert.equal(
    renderFileLine(early),
    "MALICIOUS* b.exe -> /q/b.exe  (te_eb early verdict; final verdict and report follow)",
  );
  const copy: FileRecord = {
    relPath: "copy/b.exe",
    state: "malicious",
    size: 9,
    disposition: "moved",
    destination: "/q/copy/b.exe",
    reportDir: "/rep/copy/b.exe_report",
    duplicateOf: "b.exe",
  };
  assert.equal(
    renderFileLine(copy),
    "MALICIOUS  copy/b.exe -> /q/copy/b.exe  report: /rep/copy/b.exe_report  same content as b.exe",
  );
  const benign: FileRecord = { relPath: "a.txt", state: "benign", size: 1, disposition: "left" };
  assert.equal(renderFileLine(benign), "BENIGN     a.txt");
  assert.equal(renderFileLine(benign, true), "\x1b[32mBENIGN    \x1b[0m a.txt");
});

Deno.test("escapes: names, tabs and DEL; ordinary text and backslashes unchanged", () => {
  assert.equal(escapeControl("tab\there\x7f\x00"), "tab\\there\\x7f\\x00");
  assert.equal(escapeControl("C:\\dir\\naïve 日本.txt"), "C:\\dir\\naïve 日本.txt");
  assert.equal(escapeControl("a\u2028b\u2066c"), "a\\u{2028}b\\u{2066}c");
});

Deno.test("progress before the walk has finished: found so far, no percent, no ETA", () => {
  const counts = { ...ZERO, benign: 1200, skipped: 34 };
  const gauges = { ...IDLE, found: 5678, hashing: 2, querying: 130, uploading: 3, emulating: 16 };
  assert.equal(
    renderProgress(counts, gauges, 4, Infinity),
    "1,234 files done · 5,678 found so far · 309 files/s · " +
      "hashing 2 · querying 130 · uploading 3 · emulating 16",
  );
});

Deno.test("progress after the walk: done/total, percent, rate, ETA, malicious and errors", () => {
  const counts = { ...ZERO, benign: 40, malicious: 2, error: 3, skipped: 5 };
  const gauges = { ...IDLE, found: 200, walkDone: true, querying: 10, emulating: 4 };
  assert.equal(
    renderProgress(counts, gauges, 20, Infinity),
    "50/200 files (25%) · 2.5 files/s · ETA 1 min 00 s · 2 malicious · 3 errors · " +
      "hashing 0 · querying 10 · uploading 0 · emulating 4",
  );
  assert.equal(
    renderProgress({ ...counts, benign: 190 }, gauges, 20, Infinity),
    "200/200 files (100%) · 10 files/s · 2 malicious · 3 errors · " +
      "hashing 0 · querying 10 · uploading 0 · emulating 4",
    "no ETA once every file is settled",
  );
  assert.match(
    renderProgress(ZERO, { ...IDLE, walkDone: true }, 0, Infinity),
    /^0\/0 files \(100%\)/,
  );
  assert.match(
    renderProgress({ ...ZERO, error: 1 }, { ...IDLE, found: 1 }, 1, Infinity),
    /^1 file done · 1 found so far · 1\.0 files\/s · 1 error · /,
  );
});

Deno.test("progress cut to 40 columns; colour escapes are never cut in half", () => {
  const counts = { ...ZERO, benign: 40, malicious: 2, error: 3, skipped: 5 };
  const gauges = { ...IDLE, found: 200, walkDone: true };
  const plain = renderProgress(counts, gauges, 20, 40);
  assert.equal(plain, "50/200 files (25%) · 2.5 files/s · …");
  const narrow = renderProgress(counts, gauges, 20, 70, true);
  assert.equal(
    narrow,
    "50/200 files (25%) · 2.5 files/s · ETA 1 min 00 s · \x1b[1;31m2 malicious\x1b[0m · …",
  );
  assert.equal(fitWidth("\x1b[1;31mabc\x1b[0m", 3), "\x1b[1;31mabc\x1b[0m", "fits: untouched");
  assert.equal(fitWidth("abcdef", 1), "…");
  assert.equal(fitWidth("abcdef", 0), "");
});

function malicious(n: number): FileRecord {
  const name = `m/bad-${String(n).padStart(2, "0")}.docm`;
  return {
    relPath: name,
    state: "malicious",
    size: 1,
    disposition: "moved",
    destination: `/q/${name}`,
  };
}

Deno.test("closing table: counts, paths, then the first 20 malicious and unresolved files", () => {
  const shown = Array.from({ length: 20 }, (_, i) => malicious(i + 1));
  const lines = renderClosingTable({
    counts: {
      benign: 70,
      malicious: 25,
      error: 1,
      skipped: 4,
      uploaded: 30,
      duplicates: 2,
      bytes: 5 * 1024 ** 2,
      uncontained: 0,
    },
    seconds: 80,
    logPath: "/rep/te-scan.log.jsonl",
    summaryPath: "/rep/summary.json",
    malicious: { shown, total: 25 },
    unresolved: {
      shown: [{
        relPath: "fw.bin",
        state: "error",
        size: 1,
        disposition: "moved",
        destination: "/err/fw.bin",
        reason: "1007 FILE_TYPE_NOT_SUPPORTED",
      }],
      total: 1,
    },
  });
  assert.deepEqual(lines, [
    "",
    "  files         100",
    "  benign        70",
    "  malicious     25",
    "  errors        1",
    "  skipped       4",
    "  uploaded      30",
    "  same content  2",
    "  scanned       5.0 MiB",
    "  time          1 min 20 s",
    "  rate          1.3 files/s",
    "  log           /rep/te-scan.log.jsonl",
    "  summary       /rep/summary.json",
    "",
    "  malicious files:",
    ...shown.map((r) => `    ${r.relPath} -> ${r.destination}`),
    "    and 5 more (see /rep/te-scan.log.jsonl)",
    "",
    "  unresolved files:",
    "    fw.bin -> /err/fw.bin  (1007 FILE_TYPE_NOT_SUPPORTED)",
  ]);
});

Deno.test("closing table: no file lists when nothing was malicious or unresolved", () => {
  const lines = renderClosingTable({
    counts: { ...ZERO, benign: 3, bytes: 1536 },
    seconds: 2.25,
    logPath: "/rep/te-scan.log.jsonl",
    summaryPath: "/rep/summary.json",
    malicious: { shown: [], total: 0 },
    unresolved: { shown: [], total: 0 },
  });
  assert.equal(lines.length, 13);
  assert.equal(lines.at(-1), "  summary       /rep/summary.json");
  assert.ok(lines.includes("  time          2.3 s"));
  assert.ok(lines.includes("  rate          1.3 files/s"));
});

Deno.test("file lines: the AV signature and the Threat Extraction result by the guide's name", () => {
  const cleaned: FileRecord = {
    relPath: "a/memo.docm",
    state: "benign",
    size: 9,
    disposition: "moved",
    destination: "/ok/a/memo.docm",
    av: { code: 1001, status: "FOUND" },
    extraction: { code: 0, result: "OK", message: "Active content was removed", status: "cleaned" },
    cleanedFile: "/clean/a/memo.cleaned.docm",
  };
  assert.equal(
    renderFileLine(cleaned),
    "BENIGN     a/memo.docm -> /ok/a/memo.docm  extraction: OK -> /clean/a/memo.cleaned.docm",
  );
  const eicar: FileRecord = {
    relPath: "eicar.txt",
    state: "malicious",
    size: 68,
    disposition: "moved",
    destination: "/q/eicar.txt",
    av: { code: 1001, status: "FOUND", signature: "EICAR-Test-File" },
    extraction: { code: 12, result: "unknown code 12", status: "skipped" },
    reason: "anti-virus: EICAR-Test-File",
  };
  // The signature once (the reason names it); no cleaned copy is kept of a malicious file.
  assert.equal(
    renderFileLine(eicar),
    "MALICIOUS  eicar.txt -> /q/eicar.txt  (anti-virus: EICAR-Test-File)",
  );
  const locked: FileRecord = {
    relPath: "locked.docx",
    state: "benign",
    size: 9,
    disposition: "moved",
    destination: "/ok/locked.docx",
    extraction: { code: 7, result: "Password protected", status: "failed" },
  };
  assert.equal(
    renderFileLine(locked),
    "BENIGN     locked.docx -> /ok/locked.docx  extraction failed: Password protected",
  );
});

Deno.test("file lines: a malicious file's severity and confidence, its threat named once", () => {
  const base: FileRecord = {
    relPath: "b.docm",
    state: "malicious",
    size: 1,
    disposition: "moved",
    destination: "/q/b.docm",
  };
  const te = { source: "te" as const, severity: 3, severityName: "high", confidence: 2 };
  assert.equal(
    renderFileLine({ ...base, threat: { ...te, confidenceName: "medium", name: "Macro.Gen" } }),
    "MALICIOUS  b.docm -> /q/b.docm  severity high, confidence medium, threat Macro.Gen",
  );
  // An AV early verdict names the signature in its reason: the line does not say it twice.
  const av = { source: "av" as const, severity: 4, severityName: "critical", confidence: 5 };
  assert.equal(
    renderFileLine({
      ...base,
      disposition: "early",
      threat: { ...av, name: "EICAR-Test-File" },
      reason: "anti-virus: EICAR-Test-File",
    }),
    "MALICIOUS* b.docm -> /q/b.docm  severity critical, confidence 5/5  (anti-virus: EICAR-Test-File)",
  );
  // Not an answer's word: nothing about a threat on a benign line.
  assert.equal(
    renderFileLine({ ...base, state: "benign", destination: "/out/b.docm" }),
    "BENIGN     b.docm -> /out/b.docm",
  );
});

Deno.test("the progress line never cuts a stage count: short labels, then whole parts left out", () => {
  const counts = { ...ZERO, benign: 1234, error: 2 };
  const gauges = {
    found: 5000,
    walkDone: true,
    hashing: 4,
    querying: 120,
    uploading: 8,
    emulating: 32,
  };
  for (let width = 30; width <= 160; width++) {
    const line = renderProgress(counts, gauges, 100, width);
    assert.ok([...line].length <= width, `${width}: ${line}`);
    assert.doesNotMatch(line, /(?:hashing|querying|uploading|emulating|hash|query|up|emul) \d*…/);
    assert.doesNotMatch(line, /\w…$/, `${width}: a part cut: ${line}`);
  }
  assert.match(renderProgress(counts, gauges, 100, 105), /hash 4 · query 120 · up 8 · emul 32$/);
});
