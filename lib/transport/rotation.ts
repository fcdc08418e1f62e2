/**
 * The targets a run spreads its files over, and their health. A target that
 * keeps failing (each request after its own retries) for longer than the
 * grace period leaves the rotation with a warning; a run with no target
 * left stops, and its files not yet settled stay where they are.
 *
 * @module
 */

import { reasonOf } from "../fs/errors.ts";
import { isTransient } from "./cloud_client.ts";
import { ApplianceDownError } from "./fatal.ts";
import type { Transport } from "./transport.ts";

/** Options of a {@linkcode Rotation}. */
export interface RotationOptions {
  /** How long a target may keep failing before it leaves the rotation. */
  graceMs: number;
  /** Told when a target leaves the rotation. */
  onWarning?: (message: string) => void;
  /** The clock, in ms; default `performance.now`. */
  now?: () => number;
}

interface Member {
  transport: Transport;
  /** Files uploaded to it and not settled yet. */
  load: number;
  /** When the current run of failures began. */
  failingSince?: number;
  inRotation: boolean;
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
 * await assert.rejects(rotation.call(target, failing), /out of rotation|failed for/);
 * assert.throws(() => rotation.pick(), /no appliance left/);
 * ```
 */
export class Rotation {
  readonly #members: Member[];
  readonly #options: RotationOptions;

  constructor(transports: readonly Transport[], options: RotationOptions) {
    if (!transports.length) throw new RangeError("Cannot make a rotation of no targets");
    this.#members = transports.map((transport) => ({ transport, load: 0, inRotation: true }));
    this.#options = options;
  }

  /** Every target, in the order given. */
  get all(): Transport[] {
    return this.#members.map((m) => m.transport);
  }

  /** The targets still in rotation. */
  get active(): Transport[] {
    return this.#members.filter((m) => m.inRotation).map((m) => m.transport);
  }

  #member(transport: Transport): Member {
    const member = this.#members.find((m) => m.transport === transport);
    if (!member) throw new Error(`Cannot use ${transport.label}: not in this rotation`);
    return member;
  }

  #now(): number {
    return this.#options.now?.() ?? performance.now();
  }

  /** The target in rotation with the fewest files in emulation. */
  pick(): Transport {
    let best: Member | undefined;
    for (const member of this.#members) {
      if (member.inRotation && (!best || member.load < best.load)) best = member;
    }
    if (!best) throw new ApplianceDownError(this.#noneLeft());
    return best.transport;
  }

  /** Takes `transport` out of the rotation (its preflight failed). */
  retire(transport: Transport): void {
    this.#member(transport).inRotation = false;
  }

  /** Counts a file in emulation on `transport` (`delta` 1 when admitted, -1 when settled). */
  load(transport: Transport, delta: 1 | -1): void {
    this.#member(transport).load += delta;
  }

  /**
   * Runs one request against `transport`, keeping its health. A passing
   * failure is rethrown as it is until the target has failed for longer than
   * the grace period; then it leaves the rotation, and when none is left the
   * error is an {@linkcode ApplianceDownError}.
   */
  async call<T>(transport: Transport, request: (target: Transport) => Promise<T>): Promise<T> {
    const member = this.#member(transport);
    if (!member.inRotation) throw new ApplianceDownError(this.#outOfRotation(member));
    try {
      const result = await request(transport);
      member.failingSince = undefined;
      return result;
    } catch (error) {
      if (!isTransient(error)) throw error;
      const now = this.#now();
      member.failingSince ??= now;
      const seconds = Math.round((now - member.failingSince) / 1000);
      if (now - member.failingSince < this.#options.graceMs) throw error;
      member.inRotation = false;
      const why = `appliance ${transport.label} has failed for ${seconds} s ` +
        `(last: ${reasonOf(error)})`;
      if (this.active.length) {
        this.#options.onWarning?.(`${why}; it leaves the rotation`);
        throw error;
      }
      throw new ApplianceDownError(`${why}; files not yet settled were left in place`);
    }
  }

  #outOfRotation(member: Member): string {
    return `appliance ${member.transport.label} is out of rotation`;
  }

  #noneLeft(): string {
    return "no appliance left in rotation; files not yet settled were left in place";
  }

  /** Closes every target's connections. */
  close(): void {
    for (const member of this.#members) member.transport.close();
  }
}
