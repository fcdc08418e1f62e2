// The final-state table: every way a file can end, from its outcome, its early quarantine and what
// placing it did, decided in one pure function (lib/pipeline/final_state.ts).
import assert from "node:assert/strict";
import {
  type FinalInput,
  finalState,
  inherit,
  type PlacementPlan,
  placementPlan,
  type Settlement,
} from "../../lib/pipeline/final_state.ts";
import type { FinalState, Outcome } from "../../lib/pipeline/types.ts";

const JAIL = "/jail/a.exe";
const OUT = "/out/a.exe";
const moved = (destination: string) => ({
  kind: "placed" as const,
  how: "moved" as const,
  destination,
});

type Row = [string, FinalInput, Partial<Settlement>];

const ROWS: Row[] = [
  ["benign, moved", { state: "benign", placement: moved(OUT), jail: true }, {
    state: "benign",
    disposition: "moved",
    destination: OUT,
    notes: [],
    uncontained: false,
  }],
  ["malicious, quarantined", { state: "malicious", placement: moved(JAIL), jail: true }, {
    state: "malicious",
    disposition: "moved",
    destination: JAIL,
    uncontained: false,
  }],
  ["malicious, copied into quarantine", {
    state: "malicious",
    placement: { kind: "placed", how: "copied", destination: JAIL },
    jail: true,
  }, { state: "malicious", disposition: "copied", destination: JAIL, uncontained: false }],
  ["error, moved to --error, its reason kept", {
    state: "error",
    reason: "no verdict",
    placement: moved("/err/a"),
    jail: true,
  }, { state: "error", disposition: "moved", reason: "no verdict", notes: [] }],
  ["skipped, left", { state: "skipped", reason: "FIFO", placement: { kind: "left" }, jail: true }, {
    state: "skipped",
    disposition: "left",
    reason: "FIFO",
    uncontained: false,
  }],
  ["malicious, report only (no --jail)", {
    state: "malicious",
    placement: { kind: "left" },
    jail: false,
  }, { state: "malicious", disposition: "left", uncontained: false }],
  ["malicious, kept in place with --jail", {
    state: "malicious",
    placement: { kind: "left" },
    jail: true,
  }, { state: "malicious", disposition: "left", uncontained: true }],
  ["malicious, placement failed, with --jail", {
    state: "malicious",
    placement: { kind: "failed", detail: "cannot move: EACCES" },
    jail: true,
  }, {
    state: "malicious",
    disposition: "left",
    notes: ["cannot move: EACCES"],
    uncontained: true,
  }],
  ["malicious, placement failed, without --jail", {
    state: "malicious",
    placement: { kind: "failed", detail: "cannot copy: EACCES" },
    jail: false,
  }, {
    state: "malicious",
    disposition: "left",
    notes: ["cannot copy: EACCES"],
    uncontained: false,
  }],
  ["benign, placement failed: error", {
    state: "benign",
    placement: { kind: "failed", detail: "cannot move: ENOSPC" },
    jail: true,
  }, { state: "error", disposition: "left", notes: ["cannot move: ENOSPC"], uncontained: false }],
  ["benign, changed since hashed: error with why", {
    state: "benign",
    reason: "a note",
    placement: { kind: "changed", detail: "changed since it was scanned" },
    jail: true,
  }, {
    state: "error",
    disposition: "left",
    reason: "changed since it was scanned",
    notes: [],
    uncontained: false,
  }],
  ["malicious, changed since hashed, with --jail", {
    state: "malicious",
    placement: { kind: "changed", detail: "changed since it was scanned" },
    jail: true,
  }, {
    state: "malicious",
    disposition: "left",
    notes: ["changed since it was scanned; not quarantined"],
    uncontained: true,
  }],
  ["malicious, reached through a link, with --jail", {
    state: "malicious",
    placement: { kind: "linked", at: "/elsewhere/a.exe" },
    jail: true,
  }, {
    state: "malicious",
    disposition: "left",
    notes: [
      "reached through a symbolic link; not quarantined: the malicious bytes are at /elsewhere/a.exe",
    ],
    uncontained: true,
  }],
  ["benign, reached through a link", {
    state: "benign",
    placement: { kind: "linked", at: "/elsewhere/a" },
    jail: true,
  }, {
    state: "benign",
    disposition: "left",
    notes: ["reached through a symbolic link; left in place"],
  }],
  ["early malicious, final malicious: stays in quarantine", {
    state: "malicious",
    early: JAIL,
    placement: { kind: "stayed-early" },
    jail: true,
  }, { state: "malicious", disposition: "moved", destination: JAIL, uncontained: false }],
  ["early malicious, final error: kept in quarantine as malicious", {
    state: "error",
    reason: "timed out",
    early: JAIL,
    placement: { kind: "stayed-early" },
    jail: true,
  }, {
    state: "malicious",
    disposition: "moved",
    destination: JAIL,
    reason: undefined,
    notes: ["final verdict not received (timed out); kept in quarantine on the early verdict"],
    uncontained: false,
  }],
  ["early malicious, final benign: moved out", {
    state: "benign",
    early: JAIL,
    placement: moved(OUT),
    jail: true,
  }, {
    state: "benign",
    disposition: "moved",
    destination: OUT,
    notes: ["final verdict benign overrides the early malicious verdict"],
  }],
  ["early malicious, final benign, no --out: left in quarantine", {
    state: "benign",
    early: JAIL,
    placement: { kind: "stayed-early" },
    jail: true,
  }, { state: "benign", disposition: "moved", destination: JAIL }],
  ["early malicious, final benign, move failed: error, still in quarantine", {
    state: "benign",
    early: JAIL,
    placement: { kind: "failed", detail: "cannot move: EXDEV" },
    jail: true,
  }, {
    state: "error",
    disposition: "moved",
    destination: JAIL,
    notes: ["final verdict benign overrides the early malicious verdict", "cannot move: EXDEV"],
  }],
  ["early malicious, final benign, changed: error, left in quarantine", {
    state: "benign",
    early: JAIL,
    placement: { kind: "changed", detail: "changed in quarantine" },
    jail: true,
  }, {
    state: "error",
    disposition: "moved",
    destination: JAIL,
    reason: "changed in quarantine",
    notes: ["final verdict benign overrides the early malicious verdict", "left in quarantine"],
    uncontained: false,
  }],
];

for (const [name, input, expected] of ROWS) {
  Deno.test(`final state: ${name}`, () => {
    const final = finalState(input);
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(final[key as keyof Settlement], value, `${name}: ${key}`);
    }
  });
}

Deno.test("final state: the plan before any I/O follows the state, early quarantine and folders", () => {
  const rows: [FinalState, { early: boolean; linked: boolean; folder: boolean }, PlacementPlan][] =
    [
      ["malicious", { early: true, linked: false, folder: true }, "stay-early"],
      ["malicious", { early: true, linked: false, folder: false }, "stay-early"],
      ["benign", { early: true, linked: false, folder: true }, "place"],
      ["benign", { early: true, linked: false, folder: false }, "stay-early"],
      ["malicious", { early: false, linked: true, folder: true }, "leave-linked"],
      ["benign", { early: false, linked: true, folder: false }, "leave"],
      ["error", { early: false, linked: false, folder: true }, "place"],
      ["skipped", { early: false, linked: false, folder: false }, "leave"],
    ];
  for (const [state, at, plan] of rows) {
    assert.equal(placementPlan(state, at), plan, `${state} ${JSON.stringify(at)}`);
  }
});

Deno.test("final state: a copy inherits its first file's verdict and ends the same way", () => {
  const firsts: Outcome[] = [
    { state: "malicious", verdict: "malicious", uploaded: true, early: true },
    { state: "benign", verdict: "benign", uploaded: true, reason: "a note" },
    { state: "error", reason: "emulation error", uploaded: false },
  ];
  for (const first of firsts) {
    const copy = inherit(first);
    assert.equal(copy.uploaded, false, "the copy was not uploaded");
    assert.deepEqual(
      { ...copy, uploaded: first.uploaded },
      first,
      "everything else is the first's",
    );
    for (const placement of [moved(JAIL), { kind: "failed" as const, detail: "EACCES" }]) {
      const input = { placement, jail: true, early: first.early ? JAIL : undefined };
      assert.deepEqual(
        finalState({ ...input, state: copy.state, reason: copy.reason }),
        finalState({ ...input, state: first.state, reason: first.reason }),
      );
    }
  }
});
