/**
 * The Threat Prevention API status codes and what a client does for each.
 *
 * One table for both transports: the cloud format and the gateway's TPAPI
 * nest the same `{code, label, message}` status objects.
 *
 * @example What the client does with a code
 * ```ts
 * import { actionFor, Code } from "./status.ts";
 * import assert from "node:assert/strict";
 * assert.equal(actionFor(Code.NOT_FOUND), "upload");
 * assert.equal(actionFor(1009), "retry");
 * ```
 * @module
 */

/** Numeric status codes (`status.code`). */
export const Code = {
  FOUND: 1001,
  UPLOAD_SUCCESS: 1002,
  PENDING: 1003,
  NOT_FOUND: 1004,
  NO_QUOTA: 1005,
  PARTIALLY_FOUND: 1006,
  FILE_TYPE_NOT_SUPPORTED: 1007,
  BAD_REQUEST: 1008,
  INTERNAL_ERROR: 1009,
  FORBIDDEN: 1010,
  NOT_ENOUGH_RESOURCES: 1011,
} as const;

/** One of the known numeric codes. */
export type KnownCode = typeof Code[keyof typeof Code];

/**
 * What a client does on a code:
 * - `done`: the answer is final, read verdicts and report ids;
 * - `wait`: the appliance has the file, query again later;
 * - `upload`: the appliance does not have the file, upload it;
 * - `retry`: a passing failure, repeat the same request after a back-off;
 * - `give-up`: a permanent failure for this file, record the reason.
 */
export type ClientAction = "done" | "wait" | "upload" | "retry" | "give-up";

/** A row of the status table. */
export interface StatusInfo {
  code: KnownCode;
  label: keyof typeof Code;
  message: string;
  action: ClientAction;
}

/**
 * The status table. Messages are the ones real appliances send where known;
 * the others paraphrase the vendor guide.
 */
export const STATUS_TABLE: Readonly<Record<KnownCode, StatusInfo>> = {
  1001: {
    code: 1001,
    label: "FOUND",
    message: "The request has been fully answered.",
    action: "done",
  },
  1002: {
    code: 1002,
    label: "UPLOAD_SUCCESS",
    message: "The file was uploaded successfully.",
    action: "wait",
  },
  1003: { code: 1003, label: "PENDING", message: "The request is pending.", action: "wait" },
  1004: {
    code: 1004,
    label: "NOT_FOUND",
    message: "Could not find the requested file. Please upload it.",
    action: "upload",
  },
  1005: {
    code: 1005,
    label: "NO_QUOTA",
    message: "There is no quota left for this API key.",
    action: "give-up",
  },
  1006: {
    code: 1006,
    label: "PARTIALLY_FOUND",
    message: "Part of the request has been answered.",
    action: "wait",
  },
  1007: {
    code: 1007,
    label: "FILE_TYPE_NOT_SUPPORTED",
    message: "The file type is not supported.",
    action: "give-up",
  },
  1008: {
    code: 1008,
    label: "BAD_REQUEST",
    message: "The request is not in a valid format.",
    action: "give-up",
  },
  1009: {
    code: 1009,
    label: "INTERNAL_ERROR",
    message: "Internal error, try again later.",
    action: "retry",
  },
  1010: {
    code: 1010,
    label: "FORBIDDEN",
    message: "Permission denied for the requested feature.",
    action: "give-up",
  },
  1011: {
    code: 1011,
    label: "NOT_ENOUGH_RESOURCES",
    message: "Not enough resources, try again in a few seconds.",
    action: "retry",
  },
};

/**
 * Looks up a code; unknown codes (a newer appliance, a hostile server) give
 * `undefined` rather than a guess.
 *
 * @example A known code and an unknown one
 * ```ts
 * import { statusInfo } from "./status.ts";
 * import assert from "node:assert/strict";
 * assert.equal(statusInfo(1007)?.label, "FILE_TYPE_NOT_SUPPORTED");
 * assert.equal(statusInfo(4242), undefined);
 * ```
 */
export function statusInfo(code: number): StatusInfo | undefined {
  return (STATUS_TABLE as Record<number, StatusInfo | undefined>)[code];
}

/**
 * The client action for a code. An unknown code is a permanent failure:
 * retrying something we do not understand only hides it.
 *
 * @example Retry a passing failure, give up on a code it does not know
 * ```ts
 * import { actionFor } from "./status.ts";
 * import assert from "node:assert/strict";
 * assert.equal(actionFor(1011), "retry");
 * assert.equal(actionFor(1234), "give-up");
 * ```
 */
export function actionFor(code: number): ClientAction {
  return statusInfo(code)?.action ?? "give-up";
}

/**
 * A status object as the protocol sends it, built from the table.
 *
 * @example The status object of a code
 * ```ts
 * import { Code, statusObject } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(statusObject(Code.PENDING), {
 *   code: 1003,
 *   label: "PENDING",
 *   message: "The request is pending.",
 * });
 * ```
 */
export function statusObject(code: KnownCode): { code: number; label: string; message: string } {
  const info = STATUS_TABLE[code];
  return { code: info.code, label: info.label, message: info.message };
}

/**
 * A short human description of a status for logs and error folders, e.g.
 * `1007 FILE_TYPE_NOT_SUPPORTED`.
 *
 * @example A status in a line
 * ```ts
 * import { describeStatus } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * const line = describeStatus({ code: 1007, label: "FILE_TYPE_NOT_SUPPORTED", message: "" });
 * assert.equal(line, "1007 FILE_TYPE_NOT_SUPPORTED");
 * ```
 */
export function describeStatus(status: { code: number; label?: string; message?: string }): string {
  const label = status.label || statusInfo(status.code)?.label || "UNKNOWN";
  const message = status.message ? `: ${status.message}` : "";
  return `${status.code} ${label}${message}`;
}
