import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { BUDGET_EXCEEDED, type Pacer } from '#lib/pace/bucket.ts';
import { pacedTencent } from '#lib/connect.ts';
import { EXPORT_RETRY, LOOKUP_RETRY, backoffDelay, withRetry, type RetryPolicy } from '#lib/pace/retry.ts';
import type { PullPage, PullRequest, TencentClient } from '#lib/tencent/client.ts';
import { fromTencentError, shouldResign } from '#lib/tencent/codes.ts';
import { InvalidInput, RateLimited, UpstreamRejected, UpstreamUnavailable, type SmsStatusError } from '#lib/errors.ts';

/** A policy whose sleeps and random draws are recorded and scripted. */
function scripted(overrides: Partial<RetryPolicy> = {}, randoms: number[] = []) {
  const sleeps: number[] = [];
  let draw = 0;
  const policy: RetryPolicy = {
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random: () => randoms[draw++ % Math.max(1, randoms.length)] ?? 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    // The retry policy is data: Tencent's stale-signature codes come from tencent/codes.ts.
    retryAtOnce: shouldResign,
    ...overrides,
  };
  return { policy, sleeps };
}

/** An attempt that throws the given errors in turn, then returns 'ok'. */
function failing(...errors: unknown[]) {
  const fn = vi.fn(async () => {
    const n = fn.mock.calls.length;
    if (n <= errors.length) throw errors[n - 1];
    return 'ok';
  });
  return fn;
}

const unavailable = () => fromTencentError('InternalError', 'busy', 'rid');

describe('backoffDelay', () => {
  it('is random × min(max, base·2^(n−1)) (full jitter)', () => {
    const policy = { maxAttempts: 9, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, { ...policy, random: () => 1 })).toBe(100);
    expect(backoffDelay(2, { ...policy, random: () => 1 })).toBe(200);
    expect(backoffDelay(4, { ...policy, random: () => 1 })).toBe(800);
    expect(backoffDelay(5, { ...policy, random: () => 1 })).toBe(1000);
    expect(backoffDelay(9, { ...policy, random: () => 1 })).toBe(1000);
    expect(backoffDelay(3, { ...policy, random: () => 0.25 })).toBe(100);
    expect(backoffDelay(3, { ...policy, random: () => 0 })).toBe(0);
  });

  it('has the documented presets', () => {
    expect(LOOKUP_RETRY).toEqual({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 });
    expect(EXPORT_RETRY).toEqual({ maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 8000 });
  });
});

describe('withRetry', () => {
  it('retries a retryable error up to maxAttempts, with full-jitter delays, then throws the last error', async () => {
    const { policy, sleeps } = scripted({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 300 }, [0.5, 0.25, 1, 0.9]);
    const errors = Array.from({ length: 5 }, (_, i) => fromTencentError('InternalError.Timeout', `try ${i + 1}`));
    const attempt = failing(...errors);
    const onRetry = vi.fn();
    await expect(withRetry(attempt, policy, { onRetry })).rejects.toBe(errors[4]);
    expect(attempt).toHaveBeenCalledTimes(5);
    expect(sleeps).toEqual([0.5 * 100, 0.25 * 200, 1 * 300, 0.9 * 300]);
    expect(onRetry.mock.calls).toEqual([
      [errors[0], 1, 50],
      [errors[1], 2, 50],
      [errors[2], 3, 300],
      [errors[3], 4, 270],
    ]);
  });

  it('returns as soon as an attempt succeeds', async () => {
    const { policy, sleeps } = scripted({}, [0.1]);
    const attempt = failing(unavailable(), fromTencentError('RequestLimitExceeded', 'slow down'));
    await expect(withRetry(attempt, policy)).resolves.toBe('ok');
    expect(attempt).toHaveBeenCalledTimes(3);
    expect(sleeps).toHaveLength(2);
  });

  it('follows full jitter for any policy and random draws', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 8, maxLength: 8 }),
        async (maxAttempts, baseDelayMs, maxDelayMs, randoms) => {
          const { policy, sleeps } = scripted({ maxAttempts, baseDelayMs, maxDelayMs }, randoms);
          const attempt = vi.fn(async () => {
            throw new UpstreamUnavailable('down');
          });
          await expect(withRetry(attempt, policy)).rejects.toBeInstanceOf(UpstreamUnavailable);
          expect(attempt).toHaveBeenCalledTimes(maxAttempts);
          expect(sleeps).toHaveLength(maxAttempts - 1);
          sleeps.forEach((delay, i) => {
            const n = i + 1;
            expect(delay).toBe((randoms[i] as number) * Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1)));
          });
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it.each([
    ['InvalidInput', () => new InvalidInput('bad number', { field: 'phoneNumber' })],
    ['UpstreamRejected', () => new UpstreamRejected('no permission')],
    ['AuthFailure.SecretIdNotFound', () => fromTencentError('AuthFailure.SecretIdNotFound', 'no such id')],
    [
      'FailedOperation.PhoneNumberInBlacklist',
      () => fromTencentError('FailedOperation.PhoneNumberInBlacklist', 'opted out'),
    ],
    ['LimitExceeded', () => fromTencentError('LimitExceeded', 'quota')],
  ])('does not retry %s', async (_label, make) => {
    const { policy, sleeps } = scripted();
    const error = make();
    const attempt = failing(error);
    const onRetry = vi.fn();
    await expect(withRetry(attempt, policy, { onRetry })).rejects.toBe(error);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it('does not retry an error outside the taxonomy', async () => {
    const { policy, sleeps } = scripted();
    const error = new TypeError('bug');
    const attempt = failing(error);
    await expect(withRetry(attempt, policy)).rejects.toBe(error);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
  });

  it('re-signs once at once on AuthFailure.SignatureExpire', async () => {
    const { policy, sleeps } = scripted();
    const expired = fromTencentError('AuthFailure.SignatureExpire', 'signature expired', 'rid-1');
    const attempt = failing(expired);
    const onRetry = vi.fn();
    await expect(withRetry(attempt, policy, { onRetry })).resolves.toBe('ok');
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(sleeps).toEqual([]);
    expect(onRetry).toHaveBeenCalledExactlyOnceWith(expired, 1, 0);
  });

  it('gives up when the signature expires a second time', async () => {
    const { policy, sleeps } = scripted({ maxAttempts: 5 });
    const first = fromTencentError('AuthFailure.SignatureExpire', 'expired');
    const second = fromTencentError('AuthFailure.SignatureExpire', 'expired again');
    const attempt = failing(first, second, fromTencentError('AuthFailure.SignatureExpire', 'third'));
    await expect(withRetry(attempt, policy)).rejects.toBe(second);
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(sleeps).toEqual([]);
  });

  it('re-signs only once per call even when other retries come in between', async () => {
    const { policy } = scripted({ maxAttempts: 6 });
    const expired = () => fromTencentError('AuthFailure.SignatureExpire', 'expired');
    const last = expired();
    const attempt = failing(expired(), unavailable(), last);
    await expect(withRetry(attempt, policy)).rejects.toBe(last);
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('stops when the time left is smaller than the next delay', async () => {
    const { policy, sleeps } = scripted({ baseDelayMs: 100, remainingMs: () => 99 }, [1]);
    const error = unavailable();
    const attempt = failing(error);
    await expect(withRetry(attempt, policy)).rejects.toBe(error);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
  });

  it('retries while the time left covers the delay, and stops once it does not', async () => {
    let remaining = 1000;
    const { policy, sleeps } = scripted(
      { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 10_000, remainingMs: () => remaining },
      [1],
    );
    const attempt = vi.fn(async () => {
      throw unavailable();
    });
    const sleep = policy.sleep as (ms: number) => Promise<unknown>;
    policy.sleep = async (ms) => {
      remaining -= ms;
      await sleep(ms);
    };
    await expect(withRetry(attempt, policy)).rejects.toBeInstanceOf(UpstreamUnavailable);
    // Delays 100, 200, 400 fit in 1000 ms (300 left); the fourth, 800, does not.
    expect(sleeps).toEqual([100, 200, 400]);
    expect(attempt).toHaveBeenCalledTimes(4);
  });

  it('retries when the time left equals the delay exactly', async () => {
    const { policy, sleeps } = scripted({ baseDelayMs: 100, remainingMs: () => 100 }, [1]);
    await expect(withRetry(failing(unavailable()), policy)).resolves.toBe('ok');
    expect(sleeps).toEqual([100]);
  });

  it("never retries the pacer's own RateBudgetExceeded", async () => {
    const { policy, sleeps } = scripted();
    const error = new RateLimited('over budget', { code: BUDGET_EXCEEDED, retryAfterSeconds: 2 });
    expect(error.retryable).toBe(true);
    const attempt = failing(error);
    await expect(withRetry(attempt, policy)).rejects.toBe(error);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
  });

  it('retries Tencent rate limiting (RequestLimitExceeded.*)', async () => {
    const { policy } = scripted();
    const attempt = failing(
      fromTencentError('RequestLimitExceeded.UinLimitExceeded', 'x'),
      fromTencentError('RequestLimitExceeded.IPLimitExceeded', 'x'),
    );
    await expect(withRetry(attempt, policy)).resolves.toBe('ok');
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('makes a single attempt when maxAttempts is 1', async () => {
    const { policy, sleeps } = scripted({ maxAttempts: 1 });
    const error = unavailable();
    const attempt = failing(error);
    await expect(withRetry(attempt, policy)).rejects.toBe(error);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
  });
});

describe('pacedTencent', () => {
  const request: PullRequest = {
    phoneNumber: '+8613711112222',
    beginTime: 1714000000,
    endTime: 1714003600,
    limit: 100,
  };
  const page: PullPage = { statuses: [], requestId: 'rid-ok' };

  function fakePacer(takeImpl: (maxWaitMs?: number) => Promise<void> = async () => {}) {
    return { take: vi.fn(takeImpl), slowDown: vi.fn() } satisfies Pacer;
  }

  function client(...errors: SmsStatusError[]) {
    const pull = vi.fn(async (_request: PullRequest): Promise<PullPage> => {
      const n = pull.mock.calls.length;
      if (n <= errors.length) throw errors[n - 1];
      return page;
    });
    return { pull } satisfies TencentClient;
  }

  const retry: RetryPolicy = {
    maxAttempts: 4,
    baseDelayMs: 10,
    maxDelayMs: 100,
    random: () => 0,
    sleep: async () => {},
  };

  it('passes a successful page through, paced once', async () => {
    const pacer = fakePacer();
    const upstream = client();
    const paced = pacedTencent(upstream, { pacer, retry, maxQueueMs: 250 });
    await expect(paced.pull(request)).resolves.toBe(page);
    expect(upstream.pull).toHaveBeenCalledExactlyOnceWith(request);
    expect(pacer.take).toHaveBeenCalledExactlyOnceWith(250);
    expect(paced.stats).toEqual({ requests: 1, retries: 0, throttles: 0 });
  });

  it('counts requests, retries and throttles, and slows the pacer on RequestLimitExceeded', async () => {
    const pacer = fakePacer();
    const upstream = client(
      fromTencentError('RequestLimitExceeded', 'too fast'),
      fromTencentError('InternalError.Timeout', 'slow'),
      fromTencentError('RequestLimitExceeded.UinLimitExceeded', 'too fast'),
    );
    const paced = pacedTencent(upstream, { pacer, retry });
    await expect(paced.pull(request)).resolves.toBe(page);
    expect(paced.stats).toEqual({ requests: 4, retries: 3, throttles: 2 });
    expect(pacer.slowDown).toHaveBeenCalledTimes(2);
    expect(pacer.take).toHaveBeenCalledTimes(4);
    expect(upstream.pull).toHaveBeenCalledTimes(4);
  });

  it('does not slow the pacer for errors that are not rate limiting', async () => {
    const pacer = fakePacer();
    const paced = pacedTencent(
      client(fromTencentError('ServiceUnavailable', 'x'), fromTencentError('AuthFailure.SignatureExpire', 'x')),
      {
        pacer,
        retry,
      },
    );
    await expect(paced.pull(request)).resolves.toBe(page);
    expect(paced.stats).toEqual({ requests: 3, retries: 2, throttles: 0 });
    expect(pacer.slowDown).not.toHaveBeenCalled();
  });

  it('slows the pacer on RequestLimitExceeded even when no retry follows', async () => {
    const pacer = fakePacer();
    const last = fromTencentError('RequestLimitExceeded', 'too fast');
    const paced = pacedTencent(client(last), { pacer, retry: { ...retry, maxAttempts: 1 } });
    await expect(paced.pull(request)).rejects.toBe(last);
    expect(paced.stats.requests).toBe(1);
    expect(pacer.slowDown).toHaveBeenCalledTimes(1);
  });

  it('gives up with RateLimited when the pacer refuses, without sending or retrying', async () => {
    const refusal = new RateLimited('over budget', { code: BUDGET_EXCEEDED, retryAfterSeconds: 1 });
    const pacer = fakePacer(async () => {
      throw refusal;
    });
    const upstream = client();
    const paced = pacedTencent(upstream, { pacer, retry, maxQueueMs: 0 });
    await expect(paced.pull(request)).rejects.toBe(refusal);
    expect(upstream.pull).not.toHaveBeenCalled();
    expect(pacer.take).toHaveBeenCalledTimes(1);
    expect(paced.stats).toEqual({ requests: 0, retries: 0, throttles: 0 });
  });

  it('does not start a retry after deadlineAt', async () => {
    const pacer = fakePacer();
    const error = fromTencentError('InternalError', 'x');
    const upstream = client(error);
    const paced = pacedTencent(upstream, { pacer, retry: { ...retry, random: () => 0.5 } });
    paced.deadlineAt = Date.now() - 1;
    await expect(paced.pull(request)).rejects.toBe(error);
    expect(upstream.pull).toHaveBeenCalledTimes(1);
    expect(paced.stats).toEqual({ requests: 1, retries: 0, throttles: 0 });
  });

  it('gives up after maxAttempts of rate limiting', async () => {
    const pacer = fakePacer();
    const errors = Array.from({ length: 4 }, () => fromTencentError('RequestLimitExceeded', 'too fast'));
    const paced = pacedTencent(client(...errors), { pacer, retry });
    await expect(paced.pull(request)).rejects.toBe(errors[3]);
    expect(paced.stats.requests).toBe(4);
    expect(paced.stats.retries).toBe(3);
  });
});
