// The poll schedule on a clock the test moves by hand: no sleeps, no timers.
import assert from "node:assert/strict";
import { PollSchedule, type PollTiming } from "../../lib/pipeline/poll_schedule.ts";

/** A file of the schedule, on a named target. */
interface File extends PollTiming {
  target: string;
}

/** Time stands still until the test moves it; the deadline clock can be held apart. */
class FakeClock {
  t = 0;
  deadline = 0;
  now = () => this.t;
  deadlineNow = () => this.deadline;
  advance(ms: number): void {
    this.t += ms;
    this.deadline += ms;
  }
}

function setup(options: { pollIntervalMs?: number; minRoundMs?: number; timeoutMs?: number } = {}) {
  const clock = new FakeClock();
  const schedule = new PollSchedule<File, string>(
    {
      pollIntervalMs: options.pollIntervalMs ?? 60_000,
      minRoundMs: options.minRoundMs ?? 1_000,
      timeoutMs: options.timeoutMs ?? 600_000,
    },
    clock,
    (file) => file.target,
  );
  const admit = (target: string, uploading = false): File => ({
    ...schedule.admit(uploading),
    target,
  });
  return { clock, schedule, admit };
}

/**
 * Moves the clock to the file's next poll, runs the round, reschedules the file and
 * returns its new wait.
 */
function pollAgain(clock: FakeClock, schedule: PollSchedule<File, string>, file: File): number {
  clock.advance(file.nextPollAt - clock.t);
  assert.deepEqual(schedule.round([file]).due, [file]);
  schedule.reschedule(file);
  return file.nextPollAt - clock.t;
}

Deno.test("until a verdict is seen, a file is asked about every round, each wait 1.15× longer", () => {
  const { clock, schedule, admit } = setup({ pollIntervalMs: 3_000 });
  const file = admit("a");
  assert.deepEqual(schedule.round([file]).due, [file], "a new file is asked about at once");
  schedule.reschedule(file);
  const waits = [file.nextPollAt - clock.t];
  for (let i = 0; i < 9; i++) waits.push(pollAgain(clock, schedule, file));
  const expected = [1, 2, 3, 4, 5, 6, 7].map((n) => 1_000 * 1.15 ** n);
  expected.push(3_000, 3_000, 3_000); // never longer than the poll interval
  assert.equal(waits.length, expected.length);
  waits.forEach((wait, i) => assert.ok(Math.abs(wait - expected[i]) < 1e-6, `wait ${i}: ${wait}`));
  assert.equal(file.polls, 10);
});

Deno.test("the learned time lies midway between the pending poll and the one that found the verdict", () => {
  const { clock, schedule, admit } = setup();
  const first = admit("a");
  schedule.uploaded(first);
  clock.advance(1_000);
  schedule.round([first]);
  schedule.polled(first, "pending");
  schedule.reschedule(first);
  clock.advance(2_000);
  schedule.round([first]);
  schedule.polled(first, "final");
  assert.equal(schedule.learnedMs("a"), 2_000, "(1 s + 3 s) / 2 after the upload");
  assert.equal(schedule.learnedMs("b"), undefined, "learned per target");

  // A file uploaded next on the same target is first asked about when emulation should end.
  const next = admit("a");
  schedule.uploaded(next);
  schedule.reschedule(next);
  assert.equal(next.nextPollAt - clock.t, 2_000);
  // A verdict on the first poll says only "at most that long": taken 3% below, then averaged.
  clock.advance(2_000);
  assert.deepEqual(schedule.round([next]).due, [next]);
  schedule.polled(next, "final");
  assert.ok(Math.abs(schedule.learnedMs("a")! - (2_000 * 0.7 + 1_940 * 0.3)) < 1e-6);
});

Deno.test("once emulation time is known, later polls back off by 1.5× from a fifth of it", () => {
  const { clock, schedule, admit } = setup({ pollIntervalMs: 60_000 });
  const learner = admit("a");
  schedule.uploaded(learner);
  clock.advance(20_000);
  schedule.round([learner]);
  schedule.polled(learner, "final");
  const learned = schedule.learnedMs("a")!;
  const file = admit("a");
  schedule.uploaded(file);
  schedule.reschedule(file);
  const waits = [file.nextPollAt - clock.t];
  for (let i = 0; i < 3; i++) waits.push(pollAgain(clock, schedule, file));
  const fifth = learned * 0.2;
  assert.deepEqual(
    waits.map(Math.round),
    [learned, fifth, fifth * 1.5, fifth * 2.25].map(Math.round),
  );
});

Deno.test("a file past its deadline expires on the deadline clock, which can stand still", () => {
  const { clock, schedule, admit } = setup({ pollIntervalMs: 60_000, timeoutMs: 5_000 });
  const file = admit("a");
  schedule.round([file]);
  schedule.reschedule(file);
  assert.equal(schedule.wakeAt([file]), 1_150, "the next poll comes before the deadline");
  // No appliance in rotation: the deadline clock stands still while time passes.
  clock.t += 30_000;
  assert.deepEqual(schedule.round([file]), { expired: [], due: [file] });
  file.nextPollAt = clock.t + 60_000;
  assert.equal(schedule.wakeAt([file]), 30_000 + 5_000, "the deadline, moved by the pause");
  clock.deadline = 5_000;
  clock.t += 5_000;
  assert.deepEqual(schedule.round([file]), { expired: [file], due: [] });
});

Deno.test("rounds are paced: files due meanwhile wait for the next round, near-due ones ride along", () => {
  const { clock, schedule, admit } = setup({ minRoundMs: 1_000 });
  const early = admit("a");
  assert.deepEqual(schedule.round([early]).due, [early]);
  clock.advance(100);
  const late = admit("a");
  assert.deepEqual(schedule.round([late]).due, [], "within the pacing, no round");
  assert.equal(schedule.wakeAt([late]), 1_000, "it wakes when the next round may start");
  const nearDue = { ...admit("a"), nextPollAt: 1_400 };
  const notYet = { ...admit("a"), nextPollAt: 1_600 };
  clock.advance(900);
  assert.deepEqual(schedule.round([late, nearDue, notYet]).due, [late, nearDue]);
});

Deno.test("a target with a poll under way holds back only its own files", () => {
  const { clock, schedule, admit } = setup();
  const onA = admit("a");
  const onB = admit("b");
  schedule.pollStarted("a");
  assert.deepEqual(schedule.round([onA, onB]).due, [onB]);
  schedule.reschedule(onB);
  clock.advance(5_000);
  assert.deepEqual(schedule.round([onA, onB]).due, [onB], "a hung poll on a: b goes on");
  assert.equal(schedule.wakeAt([onA]), Infinity, "only the poll's end wakes a's files");
  schedule.pollEnded("a");
  clock.advance(1_000);
  assert.deepEqual(schedule.round([onA]).due, [onA]);
});

Deno.test("a file being uploaded is neither polled nor expired, and its upload restarts its polls", () => {
  const { clock, schedule, admit } = setup({ timeoutMs: 1_000 });
  const file = admit("a", true);
  clock.advance(2_000);
  assert.deepEqual(schedule.round([file]), { expired: [], due: [] });
  file.polls = 3;
  file.polledAt = file.pendingAt = 1_500;
  schedule.uploaded(file);
  assert.deepEqual(
    [file.polls, file.uploadedAt, file.polledAt, file.pendingAt],
    [0, 2_000, undefined, undefined],
  );
});
