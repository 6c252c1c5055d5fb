/**
 * Sliding one-second window of accepted requests, as Tencent's 20 requests/second limit: a request over
 * the limit is refused and does not count, so a client that backs off gets through again within a second.
 */
export interface RateLimiter {
  /** How many requests the window holds with this one, or undefined when it is refused. */
  admit(at: number, limit: number): number | undefined;
}

export function createRateLimiter(): RateLimiter {
  const window: number[] = [];
  return {
    admit(at, limit) {
      while (window.length > 0 && (window[0] as number) <= at - 1000) window.shift();
      if (window.length >= limit) return undefined;
      window.push(at);
      return window.length;
    },
  };
}
