import { setTimeout as sleep } from 'node:timers/promises';
import { BUDGET_EXCEEDED } from './bucket.ts';
import { isSmsStatusError, type SmsStatusError } from '#lib/errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Time left for this work (the Lambda's remaining time, less a reserve); no retry starts past it. */
  remainingMs?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
  /** Errors a fresh attempt cures at once (a stale signature): retried once, without waiting. */
  retryAtOnce?: (error: SmsStatusError) => boolean;
}

export interface RetryHooks {
  onRetry?(error: SmsStatusError, attempt: number, delayMs: number): void;
}

/** Lookups answer within API Gateway's 29 s: a few quick tries, then the caller decides. */
export const LOOKUP_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };
/** Exports have minutes: keep trying transient failures while the Lambda's time allows. */
export const EXPORT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 8000 };

/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return (policy.random ?? Math.random)() * ceiling;
}

/**
 * Retries what the taxonomy marks retryable; what `retryAtOnce` names is retried once without waiting
 * (each attempt starts afresh, e.g. signs anew). Callers retry only read-only work.
 */
export async function withRetry<T>(attempt: () => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  let resigned = false;
  for (let n = 1; ;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isSmsStatusError(error)) throw error;
      if (!resigned && policy.retryAtOnce?.(error)) {
        resigned = true;
        hooks.onRetry?.(error, n, 0);
        continue;
      }
      if (!error.retryable || error.code === BUDGET_EXCEEDED || n >= policy.maxAttempts) throw error;
      const delay = backoffDelay(n, policy);
      if ((policy.remainingMs?.() ?? Number.POSITIVE_INFINITY) < delay) throw error;
      hooks.onRetry?.(error, n, delay);
      await (policy.sleep ?? sleep)(delay);
      n += 1;
    }
  }
}
