/**
 * The targets a run spreads its files over, and their health. Files go to
 * the least-loaded target. While another target is up, a target that fails
 * (refused, reset, timed out, 5xx) leaves the rotation at its first failure,
 * with one warning: it gets no new uploads or queries, its files move to the
 * others, and it is probed (its preflight) until it answers again. The grace
 * period decides only when it leaves the run for good. The last target up
 * keeps its requests' retries and leaves after failing for the grace period.
 * A run with no target left stops, and its files not yet settled stay where
 * they are — unless the rotation is patient (a watch-folder service), which
 * pauses and waits for a target to return.
 *
 * @module
 */

import { reasonOf } from "../util/reason.ts";
import { isTransient } from "./cloud_client.ts";
import { ApplianceDownError } from "./fatal.ts";
import { sleep } from "../util/sleep.ts";
import type { Transport } from "./transport.ts";

/** A request for a target out of rotation while others are in it: send the file elsewhere. */
export class OutOfRotationError extends Error {
  override name = "OutOfRotationError";
  constructor(readonly transport: Transport) {
    super(`appliance ${transport.label} is out of rotation`);
  }
}

/** Options of a {@linkcode Rotation}. */
export interface RotationOptions {
  /** How long a target may keep failing before it leaves the rotation. */
  graceMs: number;
  /** Time between probes of a target out of rotation; default 10 s. */
  probeMs?: number;
  /** Wait for a target to return instead of stopping the run (a watch service). */
  patient?: boolean;
  /** Told when a target leaves or rejoins the rotation. */
  onWarning?: (message: string) => void;
  /** Ends a patient wait. */
  signal?: AbortSignal;
  /** The clock, in ms; default `performance.now`. */
  now?: () => number;
}

const NONE_LEFT = "no appliance left in rotation; files not yet settled were left in place";
const MOVES_AWAY =
  "it leaves the rotation and its files go to the other appliances until it answers again";

/** "appliance X has failed for N s (last: why)". */
function failedFor(member: Member, ms: number, error: unknown): string {
  const seconds = Math.round(ms / 1000);
  return `appliance ${member.transport.label} has failed for ${seconds} s (last: ${
    reasonOf(error)
  })`;
}

/** A target as it joins: in rotation, nothing on it. */
function newMember(transport: Transport): Member {
  return { transport, load: 0, inRotation: true, lastProbe: 0 };
}

interface Member {
  transport: Transport;
  /** Files uploaded to it and not settled yet. */
  load: number;
  /** When the current run of failures began. */
  failingSince?: number;
  inRotation: boolean;
  /** Failed past the grace period while out of rotation: no longer probed. */
  gone?: boolean;
  lastProbe: number;
  probing?: Promise<void>;
}

/**
 * Targets in rotation.
 *
 * @example A target that fails past the grace period leaves the rotation
 * ```ts
 * import { Rotation } from "./rotation.ts";
 * import { NetworkError } from "./http.ts";
 * import type { Transport } from "./transport.ts";
 * import assert from "node:assert/strict";
 *
 * const target = { label: "10.1.1.5:18194" } as Transport;
 * let clock = 0;
 * const rotation = new Rotation([target], { graceMs: 1000, now: () => clock });
 * const failing = () => Promise.reject(new NetworkError("connect ECONNREFUSED"));
 * await assert.rejects(rotation.call(target, failing), NetworkError);
 * clock = 1500;
 * await assert.rejects(rotation.call(target, failing), /has failed for/);
 * await assert.rejects(rotation.pick(), /no appliance left/);
 * ```
 */
export class Rotation {
  readonly #members: Member[];
  readonly #options: RotationOptions;
  /** Time spent with no target in rotation, excluded from {@linkcode Rotation.clock}. */
  #downTotal = 0;
  #downSince?: number;

  constructor(transports: readonly Transport[], options: RotationOptions) {
    if (!transports.length) throw new RangeError("Cannot make a rotation of no targets");
    this.#members = transports.map(newMember);
    this.#options = options;
  }

  /** Whether it waits for targets to return rather than stopping the run. */
  get patient(): boolean {
    return this.#options.patient ?? false;
  }

  /** Every target, in the order given. */
  get all(): Transport[] {
    return this.#members.map((m) => m.transport);
  }

  /** The targets in rotation now (targets due for a probe are probed in the background). */
  get active(): Transport[] {
    for (const member of this.#members) this.#maybeProbe(member);
    return this.#members.filter((m) => m.inRotation).map((m) => m.transport);
  }

  /** Whether `transport` is in rotation now (unlike `active`, this starts no probe). */
  isUp(transport: Transport): boolean {
    return this.#member(transport).inRotation;
  }

  /**
   * A clock (ms) that stands still while no target is in rotation, for
   * deadlines: a file does not run out of time while the appliance is away.
   */
  clock(): number {
    const now = this.#now();
    return now - this.#downTotal - (this.#downSince === undefined ? 0 : now - this.#downSince);
  }

  #member(transport: Transport): Member {
    const member = this.#members.find((m) => m.transport === transport);
    if (!member) throw new Error(`Cannot use ${transport.label}: not in this rotation`);
    return member;
  }

  #now(): number {
    return this.#options.now?.() ?? performance.now();
  }

  /** The target in rotation with the fewest files in emulation (waiting, when patient). */
  async pick(): Promise<Transport> {
    for (;;) {
      let best: Member | undefined;
      for (const member of this.#members) {
        this.#maybeProbe(member);
        if (member.inRotation && (!best || member.load < best.load)) best = member;
      }
      if (best) return best.transport;
      await this.#waitOrStop(NONE_LEFT);
    }
  }

  /** Takes `transport` out of the rotation (its preflight failed). */
  retire(transport: Transport): void {
    this.#leave(this.#member(transport));
  }

  /** Files in emulation on every target together. */
  get inEmulation(): number {
    return this.#members.reduce((sum, member) => sum + member.load, 0);
  }

  /** Counts a file in emulation on `transport` (`delta` 1 when admitted, -1 when settled). */
  load(transport: Transport, delta: 1 | -1): void {
    this.#member(transport).load += delta;
  }

  /**
   * Whether a request that failed on `transport` may be tried there again:
   * not while another target is up (it leaves the rotation at once).
   */
  mayRetry(transport: Transport, error: unknown): boolean {
    const member = this.#member(transport);
    if (!this.#othersUp(member)) return true;
    this.#down(member, error);
    return false;
  }

  /**
   * Runs one request against `transport`, keeping its health: a passing
   * failure with another target up is an {@linkcode OutOfRotationError} (send
   * the file elsewhere); the last one up rethrows it until the grace period
   * is over. For a target out of rotation: waits when patient, else throws
   * {@linkcode ApplianceDownError} once no target is left.
   */
  async call<T>(transport: Transport, request: (target: Transport) => Promise<T>): Promise<T> {
    const member = this.#member(transport);
    for (;;) {
      this.#maybeProbe(member);
      if (member.inRotation) break;
      // Another target can take the file; only with none left is there anything to wait for.
      if (this.#members.some((m) => m.inRotation)) throw new OutOfRotationError(member.transport);
      await this.#waitOrStop(`appliance ${member.transport.label} is out of rotation`);
    }
    try {
      const result = await request(transport);
      member.failingSince = undefined;
      return result;
    } catch (error) {
      if (!isTransient(error)) throw error;
      this.#failed(member, error);
      if (!member.inRotation && this.#othersUp(member)) throw new OutOfRotationError(transport);
      throw error;
    }
  }

  #othersUp(member: Member): boolean {
    return this.#members.some((m) => m !== member && m.inRotation);
  }

  /** Out of rotation at its first failure, another target being up: one warning. */
  #down(member: Member, error: unknown): void {
    member.failingSince ??= this.#now();
    if (!member.inRotation) return;
    this.#leave(member);
    this.#options.onWarning?.(
      `appliance ${member.transport.label} failed (${reasonOf(error)}); ${MOVES_AWAY}`,
    );
  }

  #failed(member: Member, error: unknown): void {
    if (this.#othersUp(member)) return this.#down(member, error);
    const now = this.#now();
    member.failingSince ??= now;
    if (now - member.failingSince < this.#options.graceMs) return;
    const why = failedFor(member, now - member.failingSince, error);
    this.#leave(member);
    if (this.#members.some((m) => m.inRotation) || this.#options.patient) {
      this.#options.onWarning?.(`${why}; it leaves the rotation and will be probed again`);
      return;
    }
    throw new ApplianceDownError(`${why}; files not yet settled were left in place`);
  }

  #leave(member: Member): void {
    if (!member.inRotation) return;
    member.inRotation = false;
    member.lastProbe = this.#now();
    if (!this.#members.some((m) => m.inRotation)) this.#downSince ??= this.#now();
  }

  #rejoin(member: Member): void {
    member.inRotation = true;
    member.failingSince = undefined;
    if (this.#downSince !== undefined) {
      this.#downTotal += this.#now() - this.#downSince;
      this.#downSince = undefined;
    }
    this.#options.onWarning?.(
      `appliance ${member.transport.label} answers again; back in rotation`,
    );
  }

  /** Starts a probe of a target out of rotation when one is due; never waits for it. */
  #maybeProbe(member: Member): void {
    const due = this.#now() - member.lastProbe >= (this.#options.probeMs ?? 10_000);
    if (member.inRotation || member.gone || member.probing || !due) return;
    member.lastProbe = this.#now();
    member.probing = member.transport.preflight()
      .then(() => this.#rejoin(member), (error) => this.#probeFailed(member, error))
      .finally(() => (member.probing = undefined));
  }

  /** A target still failing after the grace period leaves the run for good (unless patient). */
  #probeFailed(member: Member, error: unknown): void {
    const failedMs = this.#now() - (member.failingSince ?? member.lastProbe);
    if (this.#options.patient || failedMs < this.#options.graceMs) return;
    member.gone = true;
    this.#options.onWarning?.(`${failedFor(member, failedMs, error)}; it leaves the run`);
  }

  /** Patient: waits a probe's time for a target to return. Otherwise: stops the run. */
  async #waitOrStop(why: string): Promise<void> {
    if (!this.#options.patient) throw new ApplianceDownError(why);
    await Promise.race([
      sleep(Math.min(1_000, this.#options.probeMs ?? 10_000), this.#options.signal),
      ...this.#members.flatMap((m) => (m.probing ? [m.probing] : [])),
    ]);
  }

  /** Closes every target's connections. */
  close(): void {
    for (const member of this.#members) member.transport.close();
  }
}
