// Confinement of reads: a folder swapped for a link to an outside folder between the walk and
// the hash, or between the hash and the upload, sends none of the outside bytes to the
// appliance (a root-run te-scan could otherwise upload /etc/shadow). Real files, the emulator
// over HTTPS; each attack is staged between two stages run by the test.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { parseScanArgs } from "../../lib/cli/args.ts";
import { connectRotation } from "../../lib/cli/connect.ts";
import { Reporter } from "../../lib/cli/console.ts";
import { Terminal } from "../../lib/cli/terminal.ts";
import {
  type CheckedFolder,
  confinementOf,
  LEFT_INPUT,
  OutsideInputError,
} from "../../lib/fs/confine.ts";
import { RunLog } from "../../lib/fs/run_log.ts";
import { Settler } from "../../lib/pipeline/dispose.ts";
import { hashFile, hashStage } from "../../lib/pipeline/hash.ts";
import { runPipeline } from "../../lib/pipeline/mod.ts";
import type { PipelineItem } from "../../lib/pipeline/types.ts";
import { walk } from "../../lib/pipeline/walk.ts";
import { base64JsonBody, fileChunks } from "../../lib/transport/upload_body.ts";
import {
  captureScan,
  fastFlags,
  listFiles,
  readLog,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  within,
  writeTree,
} from "../helpers.ts";

const quiet = new Terminal({
  out: () => {},
  err: () => {},
  isTerminal: { out: false, err: false },
  columns: () => 80,
});

type Emulator = Parameters<Parameters<typeof withEmulator>[1]>[0];

/** `in/dir/{a,b}.txt` inside, `elsewhere/{a,b}.txt` outside with other bytes, `in/top.txt`. */
async function stage(root: string): Promise<{ input: string; elsewhere: string }> {
  const input = join(root, "in");
  const elsewhere = join(root, "elsewhere");
  await writeTree(input, {
    "top.txt": "an ordinary file\n",
    "dir/a.txt": "inside a\n",
    "dir/b.txt": "inside b\n",
  });
  await writeTree(elsewhere, { "a.txt": "OUTSIDE secret a\n", "b.txt": "OUTSIDE secret b\n" });
  return { input, elsewhere };
}

/** `in/dir` becomes a link to `elsewhere`; the scanned folder is kept as `in/dir.orig`. */
async function swapForLink(input: string, elsewhere: string): Promise<void> {
  await Deno.rename(join(input, "dir"), join(input, "dir.orig"));
  await Deno.symlink(elsewhere, join(input, "dir"));
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

async function rotationFor(emulator: Emulator, input: string) {
  const args = parseScanArgs(["--in", input, ...fastFlags(emulator.port)]);
  const reporter = new Reporter({ json: false, quiet: true, terminal: quiet });
  return { args, ...(await connectRotation(args, reporter)) };
}

/** Whether the emulator knows content with this SHA-1 (it was uploaded): a cloud-format query. */
async function emulatorKnows(emulator: Emulator, input: string, digest: string): Promise<boolean> {
  const { rotation } = await rotationFor(emulator, input);
  try {
    const target = await rotation.pick();
    const [answer] = await target.query([{ sha1: digest }]);
    return answer.item?.te?.status.label !== "NOT_FOUND";
  } finally {
    rotation.close();
  }
}

Deno.test("a folder swapped for a link after the walk listed it: its outside files are never hashed or uploaded", async () => {
  await withEmulator({}, async (emulator) => {
    await using dir = await tempDir();
    const { input, elsewhere } = await stage(dir.path);
    const listed = await Array.fromAsync(walk({ root: input }));
    assert.deepEqual(listed.map((i) => i.relPath), ["dir/a.txt", "dir/b.txt", "top.txt"]);
    await swapForLink(input, elsewhere);
    const { args, rotation } = await rotationFor(emulator, input);
    const rep = join(dir.path, "rep");
    await Deno.mkdir(rep);
    const log = await RunLog.open(join(rep, "te-scan.log.jsonl"));
    const folders = { benign: join(dir.path, "out"), error: join(dir.path, "error") };
    const disposer = new Settler({ reportsDir: rep, folders, copy: false, log, input });
    try {
      const end = await within(
        30,
        runPipeline({
          walk: { root: input },
          files: ReadableStream.from(listed),
          confine: confinementOf(input),
          rotation,
          disposer,
          reports: args.reports,
          concurrency: 4,
          pollIntervalMs: args.pollIntervalMs,
          timeoutMs: args.timeoutMs,
          dryRun: false,
          flushMs: 1,
        }),
      );
      assert.equal(end.interrupted, false);
    } finally {
      rotation.close();
      log.close();
    }
    const stats = emulator.stats();
    assert.equal(stats.uploads, 1, "only top.txt was uploaded");
    assert.equal(stats.upload_bytes, "an ordinary file\n".length);
    for (const name of ["a.txt", "b.txt"]) {
      const outside = await Deno.readTextFile(join(elsewhere, name));
      assert.equal(await emulatorKnows(emulator, input, sha1(outside)), false, name);
    }
    const events = (await readLog(rep)).filter((e) => e.event === "file");
    for (const file of ["dir/a.txt", "dir/b.txt"]) {
      const event = events.find((e) => e.file === file);
      assert.equal(event?.state, "error", `${file} is unresolved`);
      assert.equal(event?.reason, LEFT_INPUT);
    }
    assert.equal(events.find((e) => e.file === "top.txt")?.state, "benign");
    assert.deepEqual(await listFiles(elsewhere), ["a.txt", "b.txt"], "the outside files stay");
    assert.deepEqual(await listFiles(join(dir.path, "out")), ["top.txt"]);
  });
});

Deno.test("a folder swapped for a link after hashing: the upload refuses, no outside byte is sent", async () => {
  await withEmulator({}, async (emulator) => {
    await using dir = await tempDir();
    const { input, elsewhere } = await stage(dir.path);
    const stage2 = hashStage(2, { confine: confinementOf(input) });
    const hashed: PipelineItem[] = await Array.fromAsync(walk({ root: input }).pipeThrough(stage2));
    const job = hashed.find((item) => item.kind === "job" && item.file.relPath === "dir/a.txt");
    assert.ok(job?.kind === "job", "dir/a.txt was hashed while it was inside");
    await swapForLink(input, elsewhere);
    const { rotation } = await rotationFor(emulator, input);
    try {
      const target = await rotation.pick();
      await assert.rejects(target.upload({ ...job.file, name: "a.txt" }), OutsideInputError);
    } finally {
      rotation.close();
    }
    assert.equal(emulator.stats().uploads, 0);
    assert.equal(emulator.stats().upload_bytes, 0);
  });
});

Deno.test("upload bodies (multipart and gateway base64) refuse a path that left --in", async () => {
  await using dir = await tempDir();
  const { input, elsewhere } = await stage(dir.path);
  const file = {
    path: join(input, "dir", "a.txt"),
    size: "inside a\n".length,
    name: "a.txt",
    confinedTo: confinementOf(input),
  };
  assert.equal((await Array.fromAsync(fileChunks(file))).length, 1, "readable while inside");
  await swapForLink(input, elsewhere);
  await assert.rejects(Array.fromAsync(fileChunks(file)), OutsideInputError);
  const body = base64JsonBody('{"file_enc_data":"', '"}', file);
  await assert.rejects(Array.fromAsync(body.chunks()), OutsideInputError);
  // Without a confinement (a file reached through --follow-symlinks), the link is followed.
  const followed = { ...file, confinedTo: undefined, size: "OUTSIDE secret a\n".length };
  assert.equal((await Array.fromAsync(fileChunks(followed))).length, 1);
});

Deno.test("the walk does not descend into a folder swapped for a link after its parent was listed", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  const elsewhere = join(dir.path, "elsewhere");
  await writeTree(input, { "a/1.txt": "one\n", "a/sub/x.txt": "inside\n" });
  await writeTree(elsewhere, { "sub/secret.txt": "OUTSIDE\n" });
  const reader = walk({ root: input }).getReader();
  const first = await reader.read();
  assert.equal(first.value?.relPath, "a/1.txt");
  // `a` is listed and being worked through; swapped now, `a/sub` leads to `elsewhere/sub`.
  await Deno.rename(join(input, "a"), join(input, "a.orig"));
  await Deno.symlink(elsewhere, join(input, "a"));
  const rest: string[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    const item = next.value;
    rest.push(
      item.kind === "file"
        ? `file ${item.relPath}`
        : `${item.kind} ${item.relPath}: ${item.reason}`,
    );
  }
  assert.deepEqual(rest, [`unresolved a/sub: ${LEFT_INPUT}`]);
});

Deno.test("--files-from with --in given as a link: the listed files, named by either path, are scanned and moved", async () => {
  await withEmulator({}, async (emulator) => {
    await using dir = await tempDir();
    const f = scanFolders(dir.path);
    await writeTree(join(dir.path, "real"), { "sub/a.txt": "a\n", "b.txt": "b\n" });
    await Deno.symlink(join(dir.path, "real"), f.input);
    const list = join(dir.path, "list");
    await Deno.writeTextFile(list, `${f.input}/sub/a.txt\n${dir.path}/real/b.txt\n`);
    const flags = ["--files-from", list, ...sortFlags(f), ...fastFlags(emulator.port)];
    const run = await captureScan(flags);
    assert.equal(run.code, 0, run.out.join("\n"));
    assert.deepEqual(await listFiles(f.out), ["b.txt", "sub/a.txt"]);
  });
});

Deno.test("the folder check shared by one folder's files still sees that folder swapped between two of them", async () => {
  await using dir = await tempDir();
  const { input, elsewhere } = await stage(dir.path);
  const confine = confinementOf(input);
  const checked: CheckedFolder = {};
  const a = await hashFile(join(input, "dir", "a.txt"), { confine, checked });
  assert.equal(a.sha1, sha1("inside a\n"));
  assert.equal(checked.folder, join(input, "dir"), "the folder's real path was checked once");
  await swapForLink(input, elsewhere);
  await assert.rejects(
    hashFile(join(input, "dir", "b.txt"), { confine, checked }),
    OutsideInputError,
  );
});

Deno.test("a folder deleted between the walk and the hash: its files vanished, nothing read", async () => {
  await using dir = await tempDir();
  const { input } = await stage(dir.path);
  const listed = await Array.fromAsync(walk({ root: input }));
  await Deno.rename(join(input, "dir"), join(dir.path, "moved-away"));
  const stage2 = hashStage(2, { confine: confinementOf(input) });
  const hashed = await Array.fromAsync(ReadableStream.from(listed).pipeThrough(stage2));
  const reasons = hashed.flatMap((i) =>
    i.kind === "settled" ? [`${i.file.relPath}: ${i.outcome.reason}`] : []
  );
  assert.equal(reasons.length, 2);
  for (const reason of reasons) assert.match(reason, /^dir\/[ab]\.txt: vanished before hashing/);
});
