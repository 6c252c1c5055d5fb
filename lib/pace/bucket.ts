import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimited } from '#lib/errors.ts';

export interface Pacer {
  /** Resolves when one request may be sent; rejects with RateLimited if that is more than `maxWaitMs` away. */
  take(maxWaitMs?: number): Promise<void>;
  /** Tencent said RequestLimitExceeded: slow down for a while. */
  slowDown(): void;
}

export interface BucketOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/** Code of the RateLimited our own pacer raises: the caller should come back later, not retry now. */
export const BUDGET_EXCEEDED = 'RateBudgetExceeded';

const WINDOW_MS = 1000;
/** Send times are ours, arrival times Tencent's: leave room for network and timer jitter between them. */
const JITTER_GUARD_MS = 15;
const SLOWDOWN_FACTOR = 0.7;
const MIN_SHARE = 0.25;
/** Share of the budget won back per request after a slow-down: full speed again after ~1.5 s. */
const RECOVERY = 0.015;

/**
 * A token bucket of capacity one: requests are spaced 1/rate apart (no burst, also at a cold start),
 * and a sliding log of actual send times caps any 1-second window at ⌊rate⌋ requests even after the
 * event loop stalled and timers fired late.
 */
export class TokenBucket implements Pacer {
  readonly budget: number;
  #rate: number;
  #nextSlot = Number.NEGATIVE_INFINITY;
  #sent: number[] = [];
  #queued = 0;
  #chain: Promise<void> = Promise.resolve();
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<unknown>;

  constructor(ratePerSecond: number, options: BucketOptions = {}) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError('rate must be a positive number');
    this.budget = ratePerSecond;
    this.#rate = ratePerSecond;
    this.#now = options.now ?? performance.now.bind(performance);
    this.#sleep = options.sleep ?? sleep;
  }

  get rate(): number {
    return this.#rate;
  }

  take(maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    const expectedWait = Math.max(0, this.#nextSlot - this.#now()) + this.#queued * this.#interval();
    if (expectedWait > maxWaitMs) {
      return Promise.reject(
        new RateLimited(`over this instance's budget of ${this.budget} requests/second`, {
          code: BUDGET_EXCEEDED,
          retryAfterSeconds: Math.max(1, Math.ceil(expectedWait / 1000)),
        }),
      );
    }
    this.#queued += 1;
    const turn = this.#chain.then(() => this.#waitTurn());
    this.#chain = turn;
    return turn;
  }

  slowDown(): void {
    this.#rate = Math.max(this.budget * MIN_SHARE, this.#rate * SLOWDOWN_FACTOR);
  }

  #interval(): number {
    return WINDOW_MS / this.#rate;
  }

  async #waitTurn(): Promise<void> {
    const cap = Math.max(1, Math.floor(this.#rate));
    for (;;) {
      const now = this.#now();
      const windowFull =
        this.#sent.length >= cap ? (this.#sent[this.#sent.length - cap] as number) + WINDOW_MS + JITTER_GUARD_MS : 0;
      const ready = Math.max(this.#nextSlot, windowFull);
      if (ready <= now) break;
      await this.#sleep(ready - now);
    }
    const now = this.#now();
    const interval = this.#interval();
    // Keep to the schedule when a timer fires a little late, but never bank idle time as a burst.
    this.#nextSlot = (now - this.#nextSlot < interval / 2 ? this.#nextSlot : now) + interval;
    this.#sent.push(now);
    if (this.#sent.length > cap * 2) this.#sent.splice(0, this.#sent.length - cap);
    this.#queued -= 1;
    this.#rate = Math.min(this.budget, this.#rate + this.budget * RECOVERY);
  }
}
