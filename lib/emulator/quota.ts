/**
 * The cloud service's upload quota: each upload uses one; when none is left,
 * uploads and queries for unknown files answer 1005 NO_QUOTA.
 *
 * @example One upload uses a quota of one
 * ```ts
 * import { Quota } from "./quota.ts";
 * import assert from "node:assert/strict";
 * const quota = new Quota(1);
 * quota.consume();
 * assert.equal(quota.exhausted, true);
 * ```
 * @module
 */

/** What an unlimited quota reports as assigned. */
const UNLIMITED = 1_000_000;

/**
 * Quota state and the `/quota` answer object.
 *
 * @example No limit
 * ```ts
 * import { Quota } from "./quota.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new Quota(undefined).exhausted, false); // unlimited
 * ```
 */
export class Quota {
  #limit: number | undefined;
  #used = 0;
  #started = Math.floor(Date.now() / 1000);

  /**
   * @example A limit of 100 uploads
   * ```ts
   * import { Quota } from "./quota.ts";
   * import assert from "node:assert/strict";
   *
   * const quota = new Quota(100);
   * assert.equal(quota.answer().remain_quota_hour, 100);
   * ```
   */
  constructor(limit: number | undefined) {
    this.#limit = limit;
  }

  /**
   * No upload left.
   *
   * @example A limit of zero
   * ```ts
   * import { Quota } from "./quota.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new Quota(0).exhausted, true);
   * ```
   */
  get exhausted(): boolean {
    return this.#limit !== undefined && this.#used >= this.#limit;
  }

  /**
   * Uses one upload.
   *
   * @example Each upload uses one
   * ```ts
   * import { Quota } from "./quota.ts";
   * import assert from "node:assert/strict";
   *
   * const quota = new Quota(5);
   * quota.consume();
   * assert.equal(quota.answer().remain_quota_hour, 4);
   * ```
   */
  consume(): void {
    this.#used++;
  }

  /**
   * The quota object of the `/quota` answer, snake_case as the service sends
   * it (protocol reference §3.7); epoch times are strings there.
   *
   * @example The quota answer
   * ```ts
   * import { Quota } from "./quota.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new Quota(10).answer().remain_quota_hour, 10);
   * ```
   */
  answer(): Record<string, string | number> {
    const assigned = this.#limit ?? UNLIMITED;
    const remain = Math.max(0, assigned - this.#used);
    const now = Math.floor(Date.now() / 1000);
    const hour = 3600;
    return {
      remain_quota_hour: remain,
      remain_quota_month: remain,
      assigned_quota_hour: assigned,
      assigned_quota_month: assigned,
      hourly_quota_next_reset: String(now - (now % hour) + hour),
      monthly_quota_next_reset: String(this.#started + 30 * 24 * hour),
      quota_id: "TE-SCAN-EMULATOR",
      cloud_monthly_quota_period_start: String(this.#started),
      cloud_monthly_quota_usage_for_this_gw: this.#used,
      cloud_hourly_quota_usage_for_this_gw: this.#used,
      cloud_monthly_quota_usage_for_quota_id: this.#used,
      cloud_hourly_quota_usage_for_quota_id: this.#used,
      monthly_exceeded_quota: 0,
      hourly_exceeded_quota: 0,
      cloud_quota_max_allow_to_exceed_percentage: 0,
      pod_time_gmt: String(now),
      quota_expiration: String(this.#started + 365 * 24 * hour),
      action: this.exhausted ? "BLOCK" : "ALLOW",
    };
  }
}
