/**
 * `deno task bundle [--out DIR]`: writes `DIR/te-scan.js` (default `dist/`),
 * the whole CLI in one self-contained JavaScript file, for hosts that have
 * Deno but not this checkout. It imports only `node:` built-ins.
 *
 * `deno bundle` keeps main.ts's shebang; this replaces it with one built from
 * the shared flags (exactly the three permissions and the V8 flag) plus
 * `--no-config`: without it Deno reads a deno.json found in any folder above
 * the file, and a broken one there stops te-scan before it starts. The new
 * file is checked (`--version`) before it takes the name.
 *
 * `deno bundle` fetches esbuild from the npm registry on its first use, then
 * works offline.
 *
 * @example
 * ```sh
 * ./scripts/deno task bundle   # then, where Deno 2 is on PATH: ./dist/te-scan.js demo
 * ```
 * @module
 */

import { join } from "node:path";
import {
  buildAs,
  CONFIG,
  deno,
  fail,
  lastLine,
  MAIN,
  outDir,
  RUN_FLAGS,
  shown,
  size,
  teScanVersion,
} from "./ship.ts";

/** The bundle's first line. */
export const SHEBANG = `#!/usr/bin/env -S deno run --no-config ${RUN_FLAGS.join(" ")}`;

/** Bundles main.ts into `outFile` (executable, with {@link SHEBANG}); returns its `--version`. */
export function bundle(outFile: string): Promise<string> {
  return buildAs(outFile, async (temp) => {
    const built = await deno(["bundle", "--config", CONFIG, "--output", temp, MAIN]);
    if (!built.ok) throw new Error(`deno bundle failed: ${lastLine(built.stderr)}`);
    const text = await Deno.readTextFile(temp);
    const body = text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1) : text;
    await Deno.writeTextFile(temp, `${SHEBANG}\n${body}`);
    await Deno.chmod(temp, 0o755);
    const args = ["run", "--no-config", ...RUN_FLAGS, temp];
    return await teScanVersion(
      Deno.execPath(),
      args,
      (printed) => `the bundle does not run: ${printed}`,
    );
  });
}

if (import.meta.main) {
  const out = outDir("bundle");
  const file = join(out, "te-scan.js");
  await Deno.mkdir(out, { recursive: true });
  const version = await bundle(file).catch((error) => fail("bundle", error.message));
  console.log(`bundle: wrote ${shown(file)} (${size((await Deno.stat(file)).size)}, ${version})`);
  console.log(
    "bundle: on a host with Deno 2 on PATH run it as ./te-scan.js demo (its shebang carries " +
      `${RUN_FLAGS.join(" ")})`,
  );
}
