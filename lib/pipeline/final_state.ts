/**
 * The one place a file's final state is decided: from its outcome (the
 * answer applied by `apply.ts`), whether an early verdict quarantined it,
 * and what placing it on disk did, to the state, disposition, reason and
 * containment its log line and the exit code rest on. Pure: the settler
 * (`dispose.ts`) does the I/O and asks here what it means, and a copy of a
 * content gets its outcome through {@linkcode inherit} and is then decided
 * here like any other file.
 *
 * @module
 */

import type { FinalState, Outcome } from "./types.ts";

/** A folder given for each state's files (`--out`, `--jail`, `--error`). */
export type FolderKey = "benign" | "malicious" | "error";

/** The folder option a state's files go to; skipped files stay where they are. */
export const FOLDER_OF: Record<FinalState, FolderKey | undefined> = {
  benign: "benign",
  malicious: "malicious",
  error: "error",
  skipped: undefined,
};

/** What the settler is to do with a file before any I/O. */
export type PlacementPlan =
  /** Leave it in the quarantine its early verdict put it in. */
  | "stay-early"
  /** Leave it: it was reached through a symbolic link and a folder was asked for. */
  | "leave-linked"
  /** Leave it: no folder for its state (report-only), or it must stay where it is. */
  | "leave"
  /** Move (or copy) it into the folder of its state. */
  | "place";

/** What placing the file did. */
export type Placement =
  | { kind: "stayed-early" }
  /** Not moved: reached through a link; `at` is where the bytes are. */
  | { kind: "linked"; at: string }
  | { kind: "left" }
  | { kind: "placed"; how: "moved" | "copied"; destination: string }
  /** The move failed or was refused; `detail` says why (or that the file went). */
  | { kind: "failed"; detail: string }
  /** The file is no longer the version that was hashed (or left the input's folders). */
  | { kind: "changed"; detail: string };

/** Everything the final state depends on. */
export interface FinalInput {
  /** The outcome's state and reason. */
  state: FinalState;
  reason?: string;
  /** Where an early malicious verdict put the file, if one did. */
  early?: string;
  placement: Placement;
  /** A quarantine folder (`--jail`) was given. */
  jail: boolean;
}

/** A file's final state, as its log line and the counts carry it. */
export interface Settlement {
  state: FinalState;
  disposition: "moved" | "copied" | "left";
  destination?: string;
  /** The outcome's reason, or the one that replaced it. */
  reason?: string;
  /** Notes appended to the reason, in order. */
  notes: string[];
  /** Malicious, a quarantine was asked for, and the file is not in it (exit 4). */
  uncontained: boolean;
}

/**
 * The state a file is placed by: an early malicious verdict is not undone
 * by a missing final answer (error stays malicious), only by a final
 * benign one.
 *
 * @example An early malicious verdict and no final one
 * ```ts
 * import { intendedState } from "./final_state.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(intendedState("error", "timed out", true).state, "malicious");
 * assert.equal(intendedState("error", "timed out", false).state, "error");
 * ```
 */
export function intendedState(
  state: FinalState,
  reason: string | undefined,
  early: boolean,
): { state: FinalState; reason?: string; notes: string[] } {
  if (early && state === "error") {
    const note = `final verdict not received (${reason}); kept in quarantine on the early verdict`;
    return { state: "malicious", notes: [note] };
  }
  if (early && state === "benign") {
    return { state, reason, notes: ["final verdict benign overrides the early malicious verdict"] };
  }
  return { state, reason, notes: [] };
}

/**
 * What to do with a file in `state` (see {@linkcode intendedState}) before
 * any I/O: `folder` says whether a folder is given for that state (and the
 * file may leave its place).
 *
 * @example A malicious file quarantined early stays there
 * ```ts
 * import { placementPlan } from "./final_state.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(placementPlan("malicious", { early: true, linked: false, folder: true }), "stay-early");
 * assert.equal(placementPlan("benign", { early: false, linked: false, folder: false }), "leave");
 * ```
 */
export function placementPlan(
  state: FinalState,
  at: { early: boolean; linked: boolean; folder: boolean },
): PlacementPlan {
  if (at.early && state === "malicious") return "stay-early";
  if (at.linked) return at.folder ? "leave-linked" : "leave";
  if (!at.folder) return at.early ? "stay-early" : "leave";
  return "place";
}

/**
 * A file's final state from its outcome, its early quarantine and what
 * placing it did. A file that changed is never settled on a verdict about
 * other bytes: it ends in error, or, malicious, not quarantined. A
 * malicious file a quarantine was asked for and that is not in it is
 * uncontained.
 *
 * @example A malicious file whose move failed, with --jail
 * ```ts
 * import { finalState } from "./final_state.ts";
 * import assert from "node:assert/strict";
 *
 * const final = finalState({
 *   state: "malicious",
 *   placement: { kind: "failed", detail: "permission denied" },
 *   jail: true,
 * });
 * assert.equal(final.state, "malicious");
 * assert.equal(final.disposition, "left");
 * assert.equal(final.uncontained, true);
 * ```
 */
export function finalState(input: FinalInput): Settlement {
  const { placement, early } = input;
  const intended = intendedState(input.state, input.reason, early !== undefined);
  const final: Settlement = { ...intended, disposition: "left", uncontained: false };
  const inEarly = () => Object.assign(final, { disposition: "moved", destination: early });
  switch (placement.kind) {
    case "stayed-early":
      inEarly();
      break;
    case "placed":
      final.disposition = placement.how;
      final.destination = placement.destination;
      break;
    case "linked":
      final.notes.push(
        final.state === "malicious"
          ? `reached through a symbolic link; not quarantined: the malicious bytes are at ${placement.at}`
          : "reached through a symbolic link; left in place",
      );
      break;
    case "failed":
      if (early) inEarly();
      final.notes.push(placement.detail);
      if (final.state !== "malicious") final.state = "error";
      break;
    case "changed":
      if (early) inEarly();
      if (final.state === "malicious") {
        final.notes.push(`${placement.detail}; not quarantined`);
        break;
      }
      Object.assign(final, { state: "error", reason: placement.detail });
      if (early) final.notes.push("left in quarantine");
  }
  final.uncontained = final.state === "malicious" && input.jail && final.disposition === "left";
  return final;
}

/**
 * The outcome a copy of a content gets from its first file's answer: the
 * verdict belongs to the bytes, which the copy shares (the settler checks
 * the copy's own identity before it moves it); only the upload was not the
 * copy's.
 *
 * @example A copy inherits the verdict, not the upload
 * ```ts
 * import { inherit } from "./final_state.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   inherit({ state: "malicious", verdict: "malicious", uploaded: true }),
 *   { state: "malicious", verdict: "malicious", uploaded: false },
 * );
 * ```
 */
export function inherit(outcome: Outcome): Outcome {
  return { ...outcome, uploaded: false };
}
