/**
 * API Gateway's usage plan throttle for one API key: a token bucket holding `burstLimit` tokens, filled
 * at `rateLimit` a second. A request that finds it empty is throttled (429), never queued.
 */
export class UsagePlanThrottle {
  #tokens: number;
  #at: number;
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;

  constructor(rateLimit: number, burstLimit: number, now: () => number = () => performance.now()) {
    if (!(rateLimit > 0) || !(burstLimit >= 1)) {
      throw new RangeError('the usage plan needs a rate above 0 and a burst of at least 1');
    }
    this.#rate = rateLimit;
    this.#burst = burstLimit;
    this.#tokens = burstLimit;
    this.#now = now;
    this.#at = now();
  }

  /** Takes a token if there is one. */
  admit(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
