/**
 * The randomized-answer test of issue 11: a stand-in appliance answers every
 * request from a seeded generator (real sample shapes mutated, digests of
 * other files, truncated and non-JSON bodies, HTTP errors, closed
 * connections, slow answers), and a real scan runs against it, seed after
 * seed. Whatever the server says, the scan must end with an exit code, every
 * file in exactly one place and whole, nothing under a temporary name, a
 * summary that adds up, and no file in the benign folder unless some
 * FOUND-benign answer the server gave was about that very file: it named one
 * of the file's digests and none the client computes (sha1 and md5)
 * differently, or it was the one silent item (no digest at all) answering a
 * request about that file alone, the one case `match.ts` applies by position.
 *
 * Replay one seed (or a range) with
 * `TE_SCAN_HOSTILE_SEEDS=17` or `=1-1000`, run with
 * `--allow-env=TE_SCAN_HOSTILE_SEEDS`. The seed draws the answers from what
 * was asked, not from timing, so a replay gives the same answers to the
 * same requests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import {
  CA_FILE,
  type CapturedRun,
  captureScan,
  scanFolders,
  sortFlags,
  tempDir,
} from "../helpers.ts";
import {
  HostileAnswers,
  loadSamples,
  type Samples,
  type TreeFile,
  treeFile,
} from "./hostile_answers.ts";
import { Rng } from "./hostile_mutate.ts";
import { HostileWireServer } from "./hostile_wire.ts";
import { sleep } from "../../lib/util/sleep.ts";

const DEFAULT_SEEDS = { first: 1, last: 250 };
/** Seeds run at once (each has its own server and folders). */
const PARALLEL = 16;
/** A seed still running after this has hung: the test fails naming it. */
const SEED_DEADLINE_MS = 30_000;
/** The client's --request-timeout; every slow answer is well under it. */
const REQUEST_TIMEOUT_S = 1;
const MAX_DELAY_MS = 150;

const text = (s: string) => new TextEncoder().encode(s);

/** The scanned tree: distinct contents, one with the malicious marker. */
function tree(): TreeFile[] {
  return [
    treeFile("notes.txt", text("plain notes\n")),
    treeFile("docs/report.docx", text("Quarterly report: revenue grew.\n".repeat(40))),
    treeFile("docs/deep/data.bin", Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) % 256)),
    treeFile("mail/invoice.docm", text("Invoice TE-EMULATOR-MALICIOUS macro\n")),
    treeFile("photo.png", text("\x89PNG not really\n")),
  ];
}

/** The scan's settings for a seed: features, reports, batches, retries vary. */
function settingsFor(seed: number) {
  const rng = Rng.of(seed, "settings");
  return {
    features: rng.pick(["te,te_eb", "te", "te,av", "te,te_eb,av"]),
    reports: rng.pick(["summary", "xml", "summary,xml", "tar"]),
    batchSize: 1 + rng.int(5),
    concurrency: 1 + rng.int(4),
    retries: rng.pick([1, 1, 2]),
    grace: rng.pick([0.3, 1, 3]),
  };
}

function seedsToRun(): number[] {
  const name = "TE_SCAN_HOSTILE_SEEDS";
  const allowed = Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  const spec = allowed ? Deno.env.get(name) : undefined;
  const match = /^(\d+)(?:-(\d+))?$/.exec(spec ?? "");
  const first = match ? Number(match[1]) : DEFAULT_SEEDS.first;
  const last = match ? Number(match[2] ?? match[1]) : DEFAULT_SEEDS.last;
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** What {@linkcode filesUnder} gives a symlink or special file. */
const SPECIAL = new Uint8Array();

/** Every entry below `dir` that is not a folder, with its path relative to `root`. */
async function* entriesBelow(root: string, dir = root): AsyncGenerator<[string, Deno.DirEntry]> {
  const listing = await Array.fromAsync(Deno.readDir(dir)).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  });
  for (const entry of listing) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* entriesBelow(root, path);
    else yield [relative(root, path), entry];
  }
}

/** Every file under `root`, relative, with its bytes ({@linkcode SPECIAL} for the others). */
async function filesUnder(root: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const [rel, entry] of entriesBelow(root)) {
    out.set(rel, entry.isFile ? await Deno.readFile(join(root, rel)) : SPECIAL);
  }
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

/** Where each tree file is; problems with places. */
async function checkPlaces(
  folders: ReturnType<typeof scanFolders>,
  files: TreeFile[],
  problems: string[],
): Promise<Map<string, string>> {
  const placeOf = new Map<string, string>();
  for (const place of ["input", "out", "jail", "error"] as const) {
    for (const [rel, bytes] of await filesUnder(folders[place])) {
      const file = files.find((f) => f.relPath === rel);
      if (!file) problems.push(`unexpected file ${place}/${rel}`);
      else if (!sameBytes(file.bytes, bytes)) {
        problems.push(`${place}/${rel} differs from the original`);
      } else if (placeOf.has(rel)) {
        problems.push(`${rel} is in ${placeOf.get(rel)} and in ${place}`);
      } else placeOf.set(rel, place);
    }
  }
  for (const file of files) {
    if (!placeOf.has(file.relPath)) problems.push(`${file.relPath} is nowhere`);
  }
  for (const [rel, bytes] of await filesUnder(folders.rep)) {
    if (/\.te-scan-partial-|\.tmp$/.test(rel)) problems.push(`temporary name left: rep/${rel}`);
    // The hostile report archive holds `../escape.html` and a symlink `link`: neither may land.
    if (bytes === SPECIAL) problems.push(`not a regular file: rep/${rel}`);
    if (/(^|\/)(escape\.html|link)$/.test(rel)) {
      problems.push(`hostile report member written: rep/${rel}`);
    }
  }
  return placeOf;
}

interface LogRecord {
  event?: string;
  file?: string;
  state?: string;
}

async function readLog(rep: string): Promise<LogRecord[]> {
  const textLog = await Deno.readTextFile(join(rep, "te-scan.log.jsonl")).catch(() => "");
  return textLog.split("\n").filter(Boolean).map((line) => JSON.parse(line) as LogRecord);
}

/** The summary and the log agree with each other and with the files. */
async function checkSummary(
  rep: string,
  files: TreeFile[],
  code: number,
  placeOf: Map<string, string>,
  problems: string[],
): Promise<void> {
  let summary: { counts: Record<string, number>; error?: string; exit_code: number };
  try {
    summary = JSON.parse(await Deno.readTextFile(join(rep, "summary.json")));
  } catch (error) {
    if (code !== 3) problems.push(`no summary.json (${error})`);
    return;
  }
  const { benign, malicious, error, skipped } = summary.counts;
  const settled = benign + malicious + error + skipped;
  const finals = (await readLog(rep)).filter((r) => r.event === "file");
  const once = new Set(finals.map((r) => r.file));
  if (once.size !== finals.length) {
    problems.push(`a file was settled twice: ${finals.map((r) => r.file)}`);
  }
  if (settled !== finals.length) {
    problems.push(`summary counts ${settled} files, the log ${finals.length}`);
  }
  if (!summary.error && settled !== files.length) {
    problems.push(`summary counts ${settled} of ${files.length} files and names no error`);
  }
  if (summary.exit_code !== code) {
    problems.push(`summary exit_code ${summary.exit_code}, returned ${code}`);
  }
  if (code === 0 && [...placeOf.values()].some((p) => p !== "out")) {
    problems.push(`exit 0 but not every file is benign: ${JSON.stringify([...placeOf])}`);
  }
  if (code === 1 && malicious === 0) problems.push("exit 1 with no malicious file counted");
}

/** Runs the scan, failing (not hanging) past the seed's deadline. */
async function scanWithDeadline(argv: string[]): Promise<CapturedRun | string> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("hung"), SEED_DEADLINE_MS);
  });
  const run = captureScan(argv, controller.signal).catch((error) =>
    `threw: ${error?.stack ?? error}`
  );
  const first = await Promise.race([run, deadline]);
  clearTimeout(timer);
  if (first !== "hung") return first;
  controller.abort();
  await Promise.race([run, sleep(5_000)]);
  return `hung: still running after ${SEED_DEADLINE_MS / 1000} s (aborted)`;
}

/** One seed: its problems, or none. */
async function runSeed(seed: number, samples: Samples): Promise<string | undefined> {
  await using dir = await tempDir("te-scan-hostile-");
  const folders = scanFolders(dir.path);
  const files = tree();
  for (const file of files) {
    await Deno.mkdir(dirname(join(folders.input, file.relPath)), { recursive: true });
    await Deno.writeFile(join(folders.input, file.relPath), file.bytes);
  }
  const settings = settingsFor(seed);
  const answers = new HostileAnswers({
    seed,
    files,
    samples,
    clientDigests: ["sha1", "md5"],
    maxDelayMs: MAX_DELAY_MS,
  });
  const server = new HostileWireServer((request) => answers.handle(request));
  const problems: string[] = [];
  let result: CapturedRun | string;
  try {
    result = await scanWithDeadline([
      ...sortFlags(folders),
      ...["--ip", `127.0.0.1:${server.port}`, "--ca-cert", CA_FILE, "--quiet"],
      ...[
        "--poll-interval",
        "0.02",
        "--timeout",
        "1.5",
        "--request-timeout",
        `${REQUEST_TIMEOUT_S}`,
      ],
      ...["--retries", `${settings.retries}`, "--grace", `${settings.grace}`],
      ...["--features", settings.features, "--reports", settings.reports],
      ...["--batch-size", `${settings.batchSize}`, "-n", `${settings.concurrency}`],
    ]);
  } finally {
    await server.close();
  }
  if (typeof result === "string") problems.push(result);
  else if (![0, 1, 2, 3].includes(result.code)) problems.push(`exit code ${result.code}`);
  const placeOf = await checkPlaces(folders, files, problems);
  for (const file of files) {
    if (placeOf.get(file.relPath) === "out" && !answers.grants.has(file.sha1)) {
      problems.push(`${file.relPath} is in --out, but no FOUND-benign answer was about it`);
    }
  }
  if (typeof result !== "string") {
    await checkSummary(folders.rep, files, result.code, placeOf, problems);
  }
  if (!problems.length) return undefined;
  const printed = typeof result === "string" ? [] : [...result.out, ...result.err];
  return [
    `seed ${seed} ${JSON.stringify(settings)}:`,
    ...problems.map((p) => `  - ${p}`),
    "  console:",
    ...printed.map((line) => `    ${line}`),
    "  server transcript:",
    ...answers.transcript.map((line) => `    ${line}`),
  ].join("\n");
}

Deno.test("a hostile server, seed after seed: every file in one place, none benign on a foreign answer", async () => {
  const samples = await loadSamples();
  const seeds = seedsToRun();
  const failures: string[] = [];
  const queue = [...seeds];
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
      const failure = await runSeed(seed, samples);
      if (failure) failures.push(failure);
    }
  }));
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${seeds.length} seeds failed (replay: TE_SCAN_HOSTILE_SEEDS=N, ` +
      `--allow-env=TE_SCAN_HOSTILE_SEEDS)\n\n${failures.slice(0, 3).join("\n\n")}`,
  );
});
