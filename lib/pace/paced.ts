import { AsyncLocalStorage } from 'node:async_hooks';
import pLimit from 'p-limit';
import type { Pacer } from './bucket.ts';
import { withRetry, type RetryPolicy } from './retry.ts';

export interface PaceStats {
  requests: number;
  retries: number;
  throttles: number;
}

export interface PacedOptions {
  pacer: Pacer;
  retry: RetryPolicy;
  /** Longest a request may queue for the pacer before RateLimited (lookups answer 429 rather than wait). */
  maxQueueMs?: number;
  /** The upstream said "too many requests": slow down, whether or not this call is retried. */
  isThrottle(error: unknown): boolean;
  /**
   * Requests in flight at most (the client's sockets): a slot is taken only once one is free, or a
   * request would wait for a socket after its slot and leave with others in a clump.
   */
  maxInFlight?: number;
}

/** A call paced by the bucket and retried by the policy, with its figures and its deadline. */
export interface Paced<Request, Response> {
  call(request: Request): Promise<Response>;
  stats: PaceStats;
  /** No retry starts after this time (ms since epoch): the Lambda's deadline less a reserve. */
  deadlineAt: number;
}

/**
 * Requests made inside `countedIn(stats, work)` are also counted in `stats`: work that runs side by
 * side (an export's groups) gets exact figures of its own from one shared client.
 */
const scope = new AsyncLocalStorage<PaceStats>();

export function countedIn<T>(stats: PaceStats, work: () => Promise<T>): Promise<T> {
  return scope.run(stats, work);
}

function tally(stats: PaceStats, name: keyof PaceStats): void {
  stats[name] += 1;
  const scoped = scope.getStore();
  if (scoped) scoped[name] += 1;
}

/** Sets the time after which no retry starts: `remainingMs` from now, less `reserveMs`. */
export function setDeadline(
  paced: Pick<Paced<unknown, unknown>, 'deadlineAt'>,
  now: number,
  remainingMs: number,
  reserveMs: number,
): number {
  paced.deadlineAt = now + remainingMs - reserveMs;
  return paced.deadlineAt;
}

/** Wraps one upstream call: each request waits for the pacer, failures are retried by the policy. */
export function paced<Request, Response>(
  send: (request: Request) => Promise<Response>,
  options: PacedOptions,
): Paced<Request, Response> {
  const result: Paced<Request, Response> = {
    stats: { requests: 0, retries: 0, throttles: 0 },
    deadlineAt: Number.POSITIVE_INFINITY,
    call: (request) => withRetry(() => once(request), policy, { onRetry: () => tally(result.stats, 'retries') }),
  };
  const policy: RetryPolicy = { ...options.retry, remainingMs: () => result.deadlineAt - Date.now() };
  const inFlight = pLimit(options.maxInFlight ?? Number.POSITIVE_INFINITY);

  const once = (request: Request): Promise<Response> =>
    inFlight(async () => {
      await options.pacer.take(options.maxQueueMs);
      tally(result.stats, 'requests');
      try {
        return await send(request);
      } catch (error) {
        if (options.isThrottle(error)) {
          tally(result.stats, 'throttles');
          options.pacer.slowDown();
        }
        throw error;
      }
    });
  return result;
}
