import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { Reporter } from "../../lib/cli/console.ts";
import { streamSink, Terminal } from "../../lib/cli/terminal.ts";
import { type FileRecord, zeroCounts } from "../../lib/pipeline/dispose.ts";
import { RunProgress } from "../../lib/pipeline/progress.ts";
import { captureTerminal, ROOT } from "../helpers.ts";

const CLEAR = "\r\x1b[2K";
const TTY = { out: true, err: true };

Deno.test("a warning while the live line shows clears it first and redraws it after", async () => {
  const { terminal, writes } = await captureTerminal(TTY);
  let done = 3;
  using _live = terminal.live(() => `${done} files done`);
  terminal.err("te-scan: warning: slow appliance");
  done = 4;
  terminal.refresh();
  terminal.refresh(); // unchanged: nothing written
  assert.deepEqual(writes.err, [
    `${CLEAR}3 files done`,
    `${CLEAR}te-scan: warning: slow appliance\n3 files done`,
    `${CLEAR}4 files done`,
  ]);
});

Deno.test("a stdout line on the same screen steps round the live line; a piped stdout does not", async () => {
  const shared = await captureTerminal(TTY);
  using _a = shared.terminal.live(() => "progress");
  shared.terminal.out("BENIGN     a.txt");
  assert.deepEqual(shared.writes.err, [`${CLEAR}progress`, CLEAR, "progress"]);
  assert.deepEqual(shared.writes.out, ["BENIGN     a.txt\n"]);

  const piped = await captureTerminal({ out: false, err: true });
  using _b = piped.terminal.live(() => "progress");
  piped.terminal.out("BENIGN     a.txt");
  assert.deepEqual(piped.writes.err, [`${CLEAR}progress`]);
  assert.deepEqual(piped.writes.out, ["BENIGN     a.txt\n"]);
});

Deno.test("the live line is cut to the terminal's width, its last column left free", () => {
  const err: string[] = [];
  const terminal = new Terminal({
    out: () => {},
    err: (text) => err.push(text),
    isTerminal: TTY,
    columns: () => 12,
  });
  let asked: number | undefined;
  const live = terminal.live((width) => {
    asked = width;
    return "0123456789abcdef";
  });
  live[Symbol.dispose]();
  assert.equal(asked, 11);
  assert.deepEqual(err, [`${CLEAR}0123456789…`, CLEAR], "drawn cut, then cleared when stopped");
});

Deno.test("off a terminal the live line is a plain periodic line, never a carriage return", async () => {
  const { terminal, writes, lines } = await captureTerminal();
  const live = terminal.live((width) => `progress: ${width ?? "plain"}`);
  assert.deepEqual(writes.err, [], "nothing drawn at once");
  terminal.refresh(); // what the 10 s timer does
  terminal.err("te-scan: warning: slow appliance");
  terminal.refresh();
  live[Symbol.dispose]();
  terminal.refresh(); // stopped: nothing
  assert.deepEqual(lines("err"), [
    "progress: plain",
    "te-scan: warning: slow appliance",
    "progress: plain",
  ]);
  assert.ok(!writes.err.join("").includes("\r"));
});

Deno.test("colour only on a terminal, and only when wanted", () => {
  const sinks = { out: () => {}, err: () => {} };
  const piped = new Terminal({ ...sinks, isTerminal: { out: false, err: true }, color: true });
  assert.deepEqual(piped.color, { out: false, err: true });
  const noColor = new Terminal({ ...sinks, isTerminal: TTY, color: false });
  assert.deepEqual(noColor.color, { out: false, err: false });
});

Deno.test("a closed pipe ends a stream's output; other write errors still surface", () => {
  let writes = 0;
  const closed = streamSink({
    writeSync: () => {
      writes++;
      throw new Deno.errors.BrokenPipe("the reader went away");
    },
  });
  closed("one\n");
  closed("two\n");
  assert.equal(writes, 1);
  const failing = streamSink({
    writeSync: () => {
      throw new Deno.errors.PermissionDenied("no");
    },
  });
  assert.throws(() => failing("x\n"), Deno.errors.PermissionDenied);
  const chunks: number[] = [];
  const partial = streamSink({
    writeSync: (bytes) => {
      const n = Math.min(2, bytes.length);
      chunks.push(n);
      return n;
    },
  });
  partial("abcde");
  assert.deepEqual(chunks, [2, 2, 1], "short writes are continued");
});

Deno.test("the reporter's live line: stage gauges and done/total, cleared before the table", async () => {
  const { terminal, writes, lines } = await captureTerminal(TTY, 200);
  const reporter = new Reporter({ json: false, quiet: false, terminal });
  const settled = zeroCounts();
  const progress = new RunProgress();
  progress.found = 3;
  progress.hashing = 1;
  reporter.track(settled, progress);
  assert.ok(writes.err[0].startsWith(CLEAR), "drawn in place");
  assert.match(writes.err[0], /0 files done · 3 found so far · .* · hashing 1 · querying 0/);
  settled.benign = 1;
  progress.walkDone = true;
  progress.hashing = 0;
  progress.emulating = 2;
  terminal.refresh();
  const redrawn = writes.err.at(-1)!;
  assert.ok(redrawn.startsWith(CLEAR));
  assert.match(redrawn.slice(CLEAR.length), /^1\/3 files \(33%\) · .* · emulating 2$/);
  reporter.finish({ counts: settled, seconds: 1, logPath: "/rep/log", summaryPath: "/rep/s.json" });
  assert.equal(writes.err.at(-1), CLEAR, "the live line is gone before the table");
  assert.match(lines("out").join("\n"), /files\s+1/);
});

Deno.test("off a terminal the reporter's periodic lines carry done/total once the walk is over", async () => {
  const { terminal, writes, lines } = await captureTerminal();
  const reporter = new Reporter({ json: false, quiet: false, terminal });
  const settled = zeroCounts();
  const progress = new RunProgress();
  progress.found = 4;
  reporter.track(settled, progress);
  terminal.refresh(); // what the periodic timer does
  settled.benign = 3;
  progress.walkDone = true;
  progress.emulating = 1;
  terminal.refresh();
  reporter.finish({ counts: settled, seconds: 1, logPath: "/rep/log", summaryPath: "/rep/s.json" });
  const [during, after] = lines("err");
  assert.match(during, /0 files done · 4 found so far/);
  assert.match(after, /3\/4 files \(75%\) · .* · emulating 1$/);
  assert.ok(!writes.err.join("").includes("\r"), "plain lines, no carriage return");
});

Deno.test("--quiet and --json show no progress, even on a terminal", async () => {
  for (const mode of [{ json: false, quiet: true }, { json: true, quiet: false }]) {
    const { terminal, writes } = await captureTerminal(TTY);
    const reporter = new Reporter({ ...mode, terminal });
    reporter.track(zeroCounts(), new RunProgress());
    terminal.refresh();
    reporter.finish({ counts: zeroCounts(), seconds: 1, logPath: "/l", summaryPath: "/s" });
    assert.deepEqual(writes.err, [], JSON.stringify(mode));
  }
});

function record(n: number, state: "malicious" | "error"): FileRecord {
  return {
    relPath: `f${n}`,
    state,
    size: 1,
    disposition: "moved",
    destination: `/${state}/f${n}`,
    reason: state === "error" ? "no verdict" : undefined,
  };
}

Deno.test("the closing table names the first 20 malicious files and says how many more", async () => {
  const { terminal, lines } = await captureTerminal();
  const reporter = new Reporter({ json: false, quiet: true, terminal });
  for (let n = 1; n <= 25; n++) {
    reporter.file({ ...record(n, "malicious"), disposition: "early" }); // not counted twice
    reporter.file(record(n, "malicious"));
  }
  reporter.file(record(26, "error"));
  const settled = { ...zeroCounts(), malicious: 25, error: 1 };
  reporter.finish({ counts: settled, seconds: 2, logPath: "/rep/log", summaryPath: "/rep/s.json" });
  const out = lines("out");
  const table = out.slice(out.indexOf("  malicious files:"));
  assert.equal(table[1], "    f1 -> /malicious/f1");
  assert.equal(table[20], "    f20 -> /malicious/f20");
  assert.deepEqual(table.slice(21), [
    "    and 5 more (see /rep/log)",
    "",
    "  unresolved files:",
    "    f26 -> /error/f26  (no verdict)",
  ]);
});

Deno.test("only the terminal module touches stdout and stderr", async () => {
  const offenders: string[] = [];
  async function visit(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await visit(path);
      else if (entry.name.endsWith(".ts") && !path.endsWith(join("cli", "terminal.ts"))) {
        const code = (await Deno.readTextFile(path)).replace(/^\s*\*.*$/gm, ""); // not doc comments
        if (/Deno\.std(out|err)\b/.test(code)) offenders.push(relative(ROOT, path));
      }
    }
  }
  await visit(join(ROOT, "lib"));
  assert.deepEqual(offenders, []);
});
