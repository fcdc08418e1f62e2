// `deno task check`'s import check as CI runs it: a subprocess with --allow-read only, on this
// tree and on a copy of it with one upward import planted, hence --allow-run here.
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, tempDir, within } from "../helpers.ts";

const SCRIPT = join(ROOT, "scripts/check_imports.ts");

async function checkImports(root: string): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await within(
    60,
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", SCRIPT, root],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output(),
  );
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, out: text(stdout), err: text(stderr) };
}

Deno.test("the import check passes on this tree", async () => {
  const { code, out, err } = await checkImports(ROOT);
  assert.equal(code, 0, err);
  assert.match(out, /^check_imports: ok, cli → pipeline → transport → fs → util/);
});

Deno.test("the import check fails on a copy of this tree with one upward import planted", async () => {
  await using dir = await tempDir();
  await cp(join(ROOT, "lib"), join(dir.path, "lib"), { recursive: true });
  await cp(join(ROOT, "main.ts"), join(dir.path, "main.ts"));
  const planted = join(dir.path, "lib/fs/size.ts");
  const source = await Deno.readTextFile(planted);
  await Deno.writeTextFile(planted, `import { walk } from "../pipeline/walk.ts";\n${source}`);

  const { code, err } = await checkImports(dir.path);
  assert.equal(code, 1, err);
  assert.match(
    err,
    /^check_imports: lib\/fs\/size.ts imports lib\/pipeline\/walk.ts: upward import/m,
  );
  assert.match(err, /^check_imports: folder cycle: fs → pipeline → fs$/m);
});
