import { AsyncLocalStorage } from 'node:async_hooks';
import type { PullPage, PullRequest, TencentClient } from '#lib/tencent/client.ts';
import type { Pacer } from './bucket.ts';
import { withRetry, type RetryPolicy } from './retry.ts';

export interface PaceStats {
  requests: number;
  retries: number;
  throttles: number;
}

export interface PacedClientOptions {
  pacer: Pacer;
  retry: RetryPolicy;
  /** Longest a request may queue for the pacer before RateLimited (lookups answer 429 rather than wait). */
  maxQueueMs?: number;
}

export interface PacedClient extends TencentClient {
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

/** The same client port, each request paced by the bucket and retried by the policy. */
export function pacedClient(client: TencentClient, options: PacedClientOptions): PacedClient {
  const paced: PacedClient = {
    stats: { requests: 0, retries: 0, throttles: 0 },
    deadlineAt: Number.POSITIVE_INFINITY,
    pull: (request) => withRetry(() => once(request), policy, { onRetry }),
  };
  const policy: RetryPolicy = { ...options.retry, remainingMs: () => paced.deadlineAt - Date.now() };

  async function once(request: PullRequest): Promise<PullPage> {
    await options.pacer.take(options.maxQueueMs);
    tally(paced.stats, 'requests');
    try {
      return await client.pull(request);
    } catch (error) {
      // Tencent throttled us: slow down whether or not this call is retried.
      if ((error as { code?: string }).code?.startsWith('RequestLimitExceeded')) {
        tally(paced.stats, 'throttles');
        options.pacer.slowDown();
      }
      throw error;
    }
  }

  function onRetry(): void {
    tally(paced.stats, 'retries');
  }
  return paced;
}
