/**
 * Counters the emulator keeps so tests and benchmarks can check what a client
 * really sent (`GET /__emulator/stats`).
 *
 * @example Count a query
 * ```ts
 * import { newStats } from "./stats.ts";
 * import assert from "node:assert/strict";
 *
 * const stats = newStats();
 * stats.queries++;
 * assert.equal(stats.queries, 1);
 * ```
 * @module
 */

/**
 * The counters. Cloud-format traffic counts in `queries`/`query_items`/
 * `uploads`/`upload_bytes`; gateway (TPAPI) traffic in the `tpapi_*`
 * counters and `scrubs`, so a test can tell the transports apart.
 */
export interface EmulatorStats {
  /** Every HTTP request except `GET /__emulator/stats` itself. */
  http_requests: number;
  /** Cloud-format query requests. */
  queries: number;
  /** Request objects in those queries. */
  query_items: number;
  /** Cloud-format uploads that carried a file part. */
  uploads: number;
  /** File bytes of those uploads. */
  upload_bytes: number;
  /** Downloads answered 200. */
  downloads: number;
  /** Faults injected, from the queue or from the fail rate. */
  faults_injected: number;
  /** `POST /UserCheck/TPAPI` requests whose body was read. */
  tpapi_requests: number;
  /** Request objects in those, served or refused. */
  tpapi_items: number;
  /** TPAPI requests that carried at least one served QueryFile object. */
  tpapi_queries: number;
  /** Served QueryFile objects: a batch of 500 in one request counts 1 query, 500 items. */
  tpapi_query_items: number;
  /** Served UploadFile objects (their file decoded whole). */
  tpapi_uploads: number;
  /** Decoded file bytes of those (not the base64 or the JSON). */
  tpapi_upload_bytes: number;
  /** Threat Extraction (`scrub`) answers given, forced result codes included. */
  scrubs: number;
  /** Served UploadFile objects whose `te_options` asked for AV (a client may leave it out). */
  tpapi_av_uploads: number;
  /** Requests answered 400/413, plus request objects answered 1008. */
  bad_requests: number;
  /** Cloud-format requests answered 403, plus TPAPI objects answered 1010. */
  auth_failures: number;
  /** `…/quota` requests. */
  quota_requests: number;
}

/**
 * All counters at zero.
 *
 * @example Every counter starts at zero
 * ```ts
 * import { newStats } from "./stats.ts";
 * import assert from "node:assert/strict";
 * assert.equal(newStats().uploads, 0);
 * ```
 */
export function newStats(): EmulatorStats {
  return {
    http_requests: 0,
    queries: 0,
    query_items: 0,
    uploads: 0,
    upload_bytes: 0,
    downloads: 0,
    faults_injected: 0,
    tpapi_requests: 0,
    tpapi_items: 0,
    tpapi_queries: 0,
    tpapi_query_items: 0,
    tpapi_uploads: 0,
    tpapi_upload_bytes: 0,
    scrubs: 0,
    tpapi_av_uploads: 0,
    bad_requests: 0,
    auth_failures: 0,
    quota_requests: 0,
  };
}
