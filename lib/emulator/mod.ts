/**
 * The emulator's only entrance: a Check Point TE appliance (cloud-format
 * API) and Security Gateway (TPAPI) stand-in on one HTTPS port, for tests,
 * benchmarks, the demo and rehearsals. Everything outside `lib/emulator/`
 * imports it from here.
 *
 * @example Start an emulator on a free port and read its counters
 * ```ts
 * import { startEmulator } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const emulator = await startEmulator({ port: 0 });
 * assert.match(emulator.url, /^https:\/\/127\.0\.0\.1:\d+$/);
 * assert.equal(emulator.stats().uploads, 0);
 * await emulator.close();
 * ```
 *
 * @example Every content marker, named as help names it
 * ```ts
 * import { CONTENT_MARKERS } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const names = CONTENT_MARKERS.map((m) => m.name);
 * assert.ok(names.includes("EICAR"));
 * assert.ok(names.includes("TE-EMULATOR-EARLY-MALICIOUS"));
 * ```
 * @module
 */

export { type EmulatorOptions, type RunningEmulator, startEmulator } from "./server.ts";
export type { EmulatorStats } from "./stats.ts";
export { DEFAULT_CA_PEM, DEFAULT_CERT_PEM, DEFAULT_KEY_PEM } from "./default_tls.ts";
export { eicarBytes, eicarText } from "./eicar.ts";
export { CONTENT_MARKERS, type ContentMarker, type Marker } from "./content_scan.ts";
export { tar, type TarEntry, type TarEntryType, tarGz } from "./tar_writer.ts";
export { seededRandom } from "./rng.ts";
