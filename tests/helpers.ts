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
