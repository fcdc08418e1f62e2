// CI's tally (.ci/summarize, which .ci/run calls) read from real `deno test` output: an ignored
// test fails CI and is named, as a failed one does. Runs deno and bash, hence --allow-run here.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, tempDir, within } from "../helpers.ts";

/** Runs `deno test` on `tests` (file name → source) in `dir`; returns its whole output. */
async function denoTestLog(dir: string, tests: Record<string, string>): Promise<string> {
  for (const [name, source] of Object.entries(tests)) {
    await Deno.writeTextFile(join(dir, name), source);
  }
  const { stdout, stderr } = await within(
    120,
    new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-config", "--no-check", ...Object.keys(tests)],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output(),
  );
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return text(stdout) + text(stderr);
}

/** `.ci/summarize` on `log`: its exit code and what it printed. */
async function summarize(dir: string, log: string): Promise<{ code: number; out: string }> {
  const path = join(dir, "ci.log");
  await Deno.writeTextFile(path, log);
  const { code, stdout, stderr } = await within(
    60,
    new Deno.Command("bash", { args: [join(ROOT, ".ci/summarize"), path] }).output(),
  );
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, out: text(stdout) + text(stderr) };
}

Deno.test("an ignored test fails CI, named, with its count beside passed and failed", async () => {
  await using dir = await tempDir();
  const log = await denoTestLog(dir.path, {
    "a_test.ts": 'Deno.test("runs", () => {});\n' +
      'Deno.test({ name: "needs chromium", ignore: true, fn() {} });\n',
    "b_test.ts": 'Deno.test("also runs", () => {});\n',
  });
  const { code, out } = await summarize(dir.path, log);
  assert.equal(code, 1, out);
  assert.match(out, /^ci: 1 test\(s\) ignored, which CI does not allow:$/m);
  assert.match(out, /^needs chromium \.\.\. ignored/m);
  assert.match(out, /^ci: 1 ignored\n2 passed, 0 failed$/m);
});

Deno.test("a run with every test passed passes CI; a failed one fails it", async () => {
  await using dir = await tempDir();
  const passing = await denoTestLog(dir.path, { "a_test.ts": 'Deno.test("runs", () => {});\n' });
  assert.deepEqual(await summarize(dir.path, passing), {
    code: 0,
    out: "ci: 0 ignored\n1 passed, 0 failed\n",
  });
  const failing = await denoTestLog(dir.path, {
    "b_test.ts": 'Deno.test("breaks", () => {\n  throw new Error("no");\n});\n',
  });
  const { code, out } = await summarize(dir.path, passing + failing);
  assert.equal(code, 1, out);
  assert.match(out, /^ci: 0 ignored\n1 passed, 1 failed$/m);
});

Deno.test("a log without any test summary fails CI", async () => {
  await using dir = await tempDir();
  const { code, out } = await summarize(dir.path, "error: Module not found\n");
  assert.equal(code, 1, out);
  assert.match(out, /^ci: the test run printed no summary$/m);
});
