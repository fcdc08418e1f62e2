// Counted to the last file: after Ctrl-C, summary.json and the closing table say how many files the
// run left in the input, and how many --exclude left out. The CLI runs as a subprocess.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEmulator } from "../../lib/emulator/mod.ts";
import {
  CA_FILE,
  listFiles,
  numberedTree,
  scanFolders,
  sortFlags,
  tempDir,
  within,
  writeTree,
} from "../helpers.ts";
import { teScan } from "./cli.ts";

Deno.test("after SIGINT, counts.left_in_place equals the files still in the input; excluded counted", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  const excluded = { "notes.tmp": "excluded", "old/x.tmp": "excluded too" };
  await writeTree(f.input, { ...numberedTree(40, "file", 5), ...excluded });
  const emulator = await startEmulator({ port: 0, emulationMs: 400, earlyMs: 10 });
  try {
    const child = teScan([
      ...sortFlags(f),
      ...["--ip", `127.0.0.1:${emulator.port}`, "--ca-cert", CA_FILE, "--poll-interval", "0.05"],
      ...["-n", "2", "--exclude", "*.tmp", "--exclude", "old"],
    ]).spawn();
    const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stderr = new Response(child.stderr).text();
    let seen = "";
    // Interrupt once the first file has settled: some are moved, most are not reached.
    await within(
      60,
      (async () => {
        while (!/BENIGN/.test(seen)) {
          const { value, done } = await stdout.read();
          if (done) throw new Error(`the scan ended before a file settled: ${seen}`);
          seen += value;
        }
      })(),
    );
    child.kill("SIGINT");
    const [status] = await within(
      30,
      Promise.all([
        child.status,
        (async () => {
          for (let r = await stdout.read(); !r.done; r = await stdout.read()) seen += r.value;
        })(),
      ]),
    );
    assert.equal(status.code, 130, await stderr);
    const summary = JSON.parse(await Deno.readTextFile(join(f.rep, "summary.json")));
    const remaining = (await listFiles(f.input)).filter((name) => !name.endsWith(".tmp"));
    assert.ok(remaining.length > 0, "the run was stopped before the end");
    assert.ok(summary.counts.benign > 0, "some files were settled");
    assert.equal(summary.counts.left_in_place, remaining.length);
    assert.equal(summary.counts.benign + remaining.length, 40, "every file is counted once");
    assert.equal(summary.counts.excluded, 2, "notes.tmp and the folder old");
    const line = new RegExp(
      `^\\s+left in place\\s+${remaining.length} \\(the run stopped: interrupted\\)$`,
      "m",
    );
    assert.match(seen, line, "the closing table says what was left");
    const page = await Deno.readTextFile(join(f.rep, "index.html"));
    const cell = `<td data-setting="left-in-place">${remaining.length} (the run stopped)</td>`;
    assert.ok(page.includes(cell), "and so does index.html");
  } finally {
    await emulator.close();
  }
});
