/**
 * `deno task compile [--out DIR]`: builds `DIR/te-scan` (default `dist/`), one
 * executable with everything built in (the emulator's certificates are
 * TypeScript constants), by `deno compile` with exactly the three permissions
 * and the V8 flag.
 *
 * `deno compile` needs a runtime base, `denort`, of the same Deno version: it
 * downloads it from dl.deno.land (once, into `DENO_DIR/dl/`) unless
 * `DENORT_BIN` names one. Where that host cannot be reached this prints one
 * line saying so and exits 1 within seconds, instead of type-checking first
 * and then failing; the offline kit (`deno task kit`) is the way round it. The
 * binary is run once (`--version`) before it takes its name: a full `deno`
 * given as `DENORT_BIN` "works" but makes a binary that starts Deno itself.
 *
 * @example
 * ```sh
 * ./scripts/deno task compile && ./dist/te-scan demo
 * DENORT_BIN=/opt/denort-2.9.6 ./scripts/deno task compile
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

const VERSION = Deno.version.deno;
const TARGET = Deno.build.target;
const BASE = `denort-${TARGET}.zip`;
const BASE_URL = `https://dl.deno.land/release/v${VERSION}/${BASE}`;
const PROBE_MS = 10_000;
const COMPILE_MS = 300_000;

/** The one line printed when no runtime base can be had. */
function noBase(out: string, why: string): string {
  return `cannot build ${shown(out)}: ${why}; set DENORT_BIN to a denort runtime base of ` +
    `Deno ${VERSION} for ${TARGET} (the full deno binary does not work as one), ` +
    "or carry the offline kit instead (deno task kit)";
}

/** A fetch error's innermost reason, e.g. "dns error: failed to lookup address information: …". */
function shortReason(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const text = inner instanceof Error ? inner.message : String(error);
  return text.replace(/^.*\): /, ""); // drop "error sending request for url (…): client error (…)"
}

/** Why no runtime base can be had, or undefined when one is at hand or can be downloaded. */
async function missingBase(): Promise<string | undefined> {
  const given = Deno.env.get("DENORT_BIN");
  if (given) {
    return await Deno.stat(given).then(() => undefined, () => `DENORT_BIN=${given} does not exist`);
  }
  const info = await deno(["info", "--json"]);
  const denoDir = info.ok ? JSON.parse(info.stdout).denoDir : undefined;
  const cached = denoDir && join(denoDir, "dl", "release", `v${VERSION}`, BASE);
  if (cached && await Deno.stat(cached).then(() => true, () => false)) return undefined;
  try {
    const response = await fetch(BASE_URL, {
      method: "HEAD",
      redirect: "manual",
      signal: AbortSignal.timeout(PROBE_MS),
    });
    await response.body?.cancel();
    if (response.status < 400 || response.status >= 500) return undefined; // let deno try
    return `Deno ${VERSION} has no runtime base at ${BASE_URL} (HTTP ${response.status})`;
  } catch (error) {
    const reason = error instanceof Error && error.name === "TimeoutError"
      ? `no answer within ${PROBE_MS / 1000} s`
      : shortReason(error);
    return `Deno cannot download its runtime base from dl.deno.land (${reason})`;
  }
}

/** Runs `deno compile` into `file`; returns why it failed, or undefined. */
async function compileTo(file: string, out: string): Promise<string | undefined> {
  const compiled = await deno(
    ["compile", "--quiet", "--config", CONFIG, ...RUN_FLAGS, "--output", file, MAIN],
    { timeoutMs: COMPILE_MS },
  );
  if (compiled.ok) return undefined;
  if (compiled.timedOut) {
    return noBase(out, `deno compile did not finish within ${COMPILE_MS / 1000} s`);
  }
  const why = lastLine(compiled.stderr).replace(/^\d+: /, "");
  return /base binary|denort|dl\.deno\.land/i.test(compiled.stderr)
    ? noBase(out, `Deno could not set up its runtime base (${why})`)
    : `deno compile failed: ${why}`;
}

/** Builds `out/te-scan`; returns its `--version`, or throws with one line. */
async function compile(out: string): Promise<string> {
  const file = join(out, "te-scan");
  const missing = await missingBase();
  if (missing) throw new Error(noBase(file, missing));
  await Deno.mkdir(out, { recursive: true });
  return await buildAs(file, async (temp) => {
    const failed = await compileTo(temp, file);
    if (failed) throw new Error(failed);
    return await teScanVersion(
      temp,
      [],
      (printed) => noBase(file, `the binary built on that base printed "${printed}", not te-scan`),
    );
  });
}

if (import.meta.main) {
  const out = outDir("compile");
  const version = await compile(out).catch((error) => fail("compile", error.message));
  const file = join(out, "te-scan");
  console.log(
    `compile: wrote ${shown(file)} (${size((await Deno.stat(file)).size)}, ${version}, ` +
      `${RUN_FLAGS.join(" ")}); copy it to the host and run ./te-scan demo`,
  );
}
