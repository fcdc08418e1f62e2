/**
 * Shared test helpers: paths to the shared fixtures and the TLS test CA,
 * temporary folders, and a running emulator with a client that trusts it.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";

/** `../shared/fixtures/checkpoint/` beside the project. */
export const CHECKPOINT_FIXTURES = fromFileUrl(
  new URL("../../shared/fixtures/checkpoint/", import.meta.url),
);

/** The project root. */
export const ROOT = fromFileUrl(new URL("../", import.meta.url));

/** The emulator's test CA, as committed. */
export const CA_FILE = fromFileUrl(new URL("./fixtures/tls/ca.pem", import.meta.url));

/** Reads a Check Point sample by file name. */
export async function readFixture(name: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(CHECKPOINT_FIXTURES + name));
}

/** Every Check Point sample file name. */
export async function fixtureNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(CHECKPOINT_FIXTURES)) {
    if (entry.name.endsWith(".json")) names.push(entry.name);
  }
  return names.sort();
}

/** A temporary folder removed when disposed. */
export async function tempDir(
  prefix = "te-scan-test-",
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** What a scan printed and returned. */
export interface CapturedRun {
  code: number;
  out: string[];
  err: string[];
}

/** Runs the scan command in-process with its console captured. */
export async function captureScan(argv: string[], signal?: AbortSignal): Promise<CapturedRun> {
  const { Reporter } = await import("../lib/cli/console.ts");
  const { scanCommand } = await import("../lib/cli/scan.ts");
  const out: string[] = [];
  const err: string[] = [];
  const reporter = new Reporter({
    json: false,
    quiet: false,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    interactive: false,
  });
  const code = await scanCommand(argv, { reporter, signal });
  return { code, out, err };
}

/** The folders of a scan test, under `root`. */
export function scanFolders(root: string) {
  return {
    input: `${root}/in`,
    out: `${root}/benign`,
    jail: `${root}/quarantine`,
    error: `${root}/error`,
    rep: `${root}/reports`,
  };
}

/** `--in`, `--out`, `--jail`, `--error` and `--rep` for those folders. */
export function sortFlags(f: ReturnType<typeof scanFolders>): string[] {
  return ["--in", f.input, "--out", f.out, "--jail", f.jail, "--error", f.error, "--rep", f.rep];
}
