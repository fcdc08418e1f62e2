// The upload lifecycle alone: one send budget (UPLOAD_SENDS) for every reason a file goes again.
import assert from "node:assert/strict";
import {
  type Tracked,
  UPLOAD_SENDS,
  UploadLifecycle,
} from "../../lib/pipeline/upload_lifecycle.ts";
import type { Phase } from "../../lib/pipeline/decide.ts";
import { Rotation } from "../../lib/transport/rotation.ts";
import type { ResponseItem } from "../../lib/transport/protocol.ts";
import { FakeTransport } from "./fake_transport.ts";
import { within } from "../helpers.ts";

function tracked(sha1: string, via: FakeTransport | undefined, uploads: number): Tracked {
  const file = { path: `/in/${sha1}`, relPath: sha1, size: 1, mtimeMs: 0, sha1 };
  return {
    job: { kind: "job", file, startedAt: 0, needsUpload: via === undefined, via },
    deadline: Infinity,
    nextPollAt: 0,
    polls: 0,
    uploading: false,
    uploads,
    askedAgain: 0,
    misses: 0,
    release: () => {},
  };
}

/** A lifecycle whose host records what it is told; `ended` settles at the first apply or error. */
function lifecycle(rotation: Rotation) {
  const applied: { item: ResponseItem; phase: Phase }[] = [];
  const errors: string[] = [];
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const uploads = new UploadLifecycle({ rotation }, {
    apply: (_t, item, phase) => {
      applied.push({ item, phase });
      end();
      return Promise.resolve();
    },
    reschedule: () => {},
    uploaded: () => {},
    settleError: (_t, reason) => {
      errors.push(reason);
      end();
    },
    fail: (error) => {
      errors.push(`run failed: ${error}`);
      end();
    },
  });
  return { uploads, applied, errors, ended };
}

Deno.test("a file whose target leaves moves once while it has sends left, its last one included", async () => {
  const from = new FakeTransport();
  const to = new FakeTransport();
  const rotation = new Rotation([from, to], { graceMs: 60_000 });
  const { uploads, applied, errors, ended } = lifecycle(rotation);
  const t = tracked("moved", from, UPLOAD_SENDS - 1);
  rotation.load(from, 1);
  uploads.moveAway([t]);
  await within(10, ended);
  assert.deepEqual(errors, []);
  assert.equal(applied.length, 1, "its upload's answer is applied");
  assert.equal(applied[0].phase, "upload");
  assert.equal(t.uploads, UPLOAD_SENDS);
  assert.equal(t.moved, true);
  assert.deepEqual([...from.calls, ...to.calls], ["upload moved"]);
});

Deno.test("a transient Threat Extraction result sends the file again, up to its whole budget", async () => {
  const target = new FakeTransport();
  target.uploadScrubs.set("scrub", { code: 2, name: "Timeout", raw: { scrub_result: 2 } });
  const rotation = new Rotation([target], { graceMs: 60_000 });
  const { uploads, applied, errors, ended } = lifecycle(rotation);
  const t = tracked("scrub", undefined, 0);
  uploads.start(t, 0);
  await within(20, ended);
  assert.deepEqual(errors, []);
  assert.equal(applied.length, 1, "the last answer stands once the budget is spent");
  assert.deepEqual(target.calls, Array(UPLOAD_SENDS).fill("upload scrub"));
});
