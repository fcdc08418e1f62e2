import assert from "node:assert/strict";
import { join } from "node:path";
import {
  addFindings,
  cleanedCopyName,
  type FindingFields,
  keepLatestScrub,
  shareCleanedCopy,
} from "../../lib/pipeline/clean.ts";
import type { FinalState, Job, Outcome, ScanFile } from "../../lib/pipeline/types.ts";
import { PARTIAL_PREFIX } from "../../lib/fs/move.ts";
import type { ScrubOutcome } from "../../lib/transport/transport.ts";
import { tempDir } from "../helpers.ts";

Deno.test("cleaned copy names: the gateway's when it is a plain name, else <name>.cleaned.<ext>", () => {
  const cases: [string, string | undefined, boolean, string][] = [
    ["report.docx", "report.cleaned.docx", false, "report.cleaned.docx"],
    ["a.b.docx", undefined, false, "a.b.cleaned.docx"], // te_api: "a.cleaned.b"
    ["a.b.docx", "", true, "a.b.cleaned.pdf"],
    ["README", undefined, false, "README.cleaned"], // te_api: IndexError
    [".profile", undefined, false, ".profile.cleaned"],
    ["x.tar.gz", undefined, false, "x.tar.cleaned.gz"],
  ];
  for (const [original, given, pdf, expected] of cases) {
    assert.equal(cleanedCopyName(original, given, pdf), expected, `${original} / ${given}`);
  }
  // Names that could leave the folder, hide as a partial file, or fool a terminal fall back.
  for (const hostile of ["../x.pdf", "a/b.pdf", "a\\b.pdf", ".", "..", "x\n.pdf", "  "]) {
    assert.equal(cleanedCopyName("in.pdf", hostile, false), "in.cleaned.pdf", hostile);
  }
  assert.equal(cleanedCopyName("in.pdf", `${PARTIAL_PREFIX}x`, false), "in.cleaned.pdf");
  assert.equal(cleanedCopyName("in.pdf", `${"é".repeat(130)}.pdf`, false), "in.cleaned.pdf");
});

const scanFile = (relPath: string): ScanFile => ({
  path: `/in/${relPath}`,
  relPath,
  size: 1,
  mtimeMs: 0,
});

async function tempCopy(dir: string, text: string): Promise<string> {
  const path = join(dir, `${PARTIAL_PREFIX}${crypto.randomUUID()}`);
  await Deno.writeTextFile(path, text);
  return path;
}

async function partials(dir: string): Promise<string[]> {
  const names = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
  return names.filter((name) => name.startsWith(PARTIAL_PREFIX));
}

function settle(
  state: FinalState,
  relPath: string,
  scrub: ScrubOutcome,
  clean: string,
): Promise<{ record: FindingFields & { state: FinalState }; notes: string[] }> {
  const record: FindingFields & { state: FinalState } = { state };
  const outcome: Outcome = { state, scrub };
  return addFindings(record, scanFile(relPath), outcome, clean).then((notes) => ({
    record,
    notes,
  }));
}

Deno.test("a cleaned copy never overwrites: a taken name gets a numbered one", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(join(dir.path, "a"));
  await Deno.writeTextFile(join(dir.path, "a", "b.cleaned.docx"), "someone else's");
  const scrub: ScrubOutcome = {
    code: 0,
    name: "OK",
    outputName: "b.cleaned.docx",
    cleanedPath: await tempCopy(dir.path, "new"),
    raw: {},
  };
  const { record, notes } = await settle("benign", "a/b.docx", scrub, dir.path);
  assert.deepEqual(notes, []);
  assert.equal(record.cleanedFile, join(dir.path, "a", "b.cleaned.1.docx"));
  assert.equal(await Deno.readTextFile(join(dir.path, "a", "b.cleaned.docx")), "someone else's");
  assert.equal(await Deno.readTextFile(record.cleanedFile!), "new");
  assert.deepEqual(await partials(dir.path), []);
});

Deno.test("a malicious file keeps no cleaned copy; results without a copy are recorded", async () => {
  await using dir = await tempDir();
  const scrub: ScrubOutcome = {
    code: 0,
    name: "OK",
    cleanedPath: await tempCopy(dir.path, "x"),
    raw: {},
  };
  const bad = await settle("malicious", "bad.docm", scrub, dir.path);
  assert.deepEqual(bad.notes, ["cleaned copy not kept: the original is malicious"]);
  assert.equal(bad.record.cleanedFile, undefined);
  assert.deepEqual(await Array.fromAsync(Deno.readDir(dir.path)), []);

  const skipped = await settle("benign", "plain.pdf", {
    code: 4,
    name: "Skipped",
    message: "The file doesn't include cleanable parts",
    raw: {},
  }, dir.path);
  assert.deepEqual(skipped.notes, [], "nothing to clean is not a problem");
  assert.deepEqual(skipped.record.extraction, {
    code: 4,
    result: "Skipped",
    message: "The file doesn't include cleanable parts",
    status: "skipped",
  });
  assert.equal(bad.record.extraction?.status, "skipped", "withheld, not failed");
  const empty = await settle("benign", "e.docx", { code: 0, name: "OK", raw: {} }, dir.path);
  assert.deepEqual(empty.notes, ["Threat Extraction: the gateway sent no cleaned copy"]);
  assert.equal(empty.record.extraction?.status, "failed", "a copy promised and not sent");
});

Deno.test("identical files share one cleaned copy: each publishes its own, the temporary file goes last", async () => {
  await using dir = await tempDir();
  const scrub: ScrubOutcome = {
    code: 0,
    name: "OK",
    outputName: "memo.cleaned.docm",
    cleanedPath: await tempCopy(dir.path, "shared"),
    raw: {},
  };
  shareCleanedCopy(scrub, 2);
  const settled = await Promise.all(
    ["x/memo.docm", "y/memo.docm", "z/memo.docm"].map((rel) =>
      settle("benign", rel, scrub, dir.path)
    ),
  );
  for (const [i, folder] of ["x", "y", "z"].entries()) {
    assert.deepEqual(settled[i].notes, []);
    assert.equal(settled[i].record.cleanedFile, join(dir.path, folder, "memo.cleaned.docm"));
    assert.equal(await Deno.readTextFile(settled[i].record.cleanedFile!), "shared");
  }
  assert.deepEqual(await partials(dir.path), []);
});

Deno.test("a copy that cannot be published is a note, and its temporary file goes", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "a"), "a file where the folder would go");
  const scrub: ScrubOutcome = {
    code: 0,
    name: "OK",
    cleanedPath: await tempCopy(dir.path, "x"),
    raw: {},
  };
  const { record, notes } = await settle("benign", "a/b.docx", scrub, dir.path);
  assert.equal(record.cleanedFile, undefined);
  assert.match(notes[0], /^cannot publish the cleaned copy: .*a file is in the way/);
  assert.deepEqual(await partials(dir.path), []);
});

Deno.test("a file uploaded again keeps the latest result; the earlier copy is removed", async () => {
  await using dir = await tempDir();
  const job: Job = {
    kind: "job",
    file: { ...scanFile("a.docx"), sha1: "aa" },
    startedAt: 0,
    needsUpload: true,
  };
  const first = await tempCopy(dir.path, "first");
  keepLatestScrub(job, { code: 0, name: "OK", cleanedPath: first, raw: {} });
  keepLatestScrub(job, undefined);
  assert.equal(job.scrub?.cleanedPath, first, "an answer without a result keeps the last one");
  const second = await tempCopy(dir.path, "second");
  keepLatestScrub(job, { code: 0, name: "OK", cleanedPath: second, raw: {} });
  assert.equal(job.scrub?.cleanedPath, second);
  assert.deepEqual(await partials(dir.path), [second.slice(dir.path.length + 1)]);
});
