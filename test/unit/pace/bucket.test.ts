import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BUDGET_EXCEEDED, TokenBucket } from '#lib/pace/bucket.ts';
import { RateLimited } from '#lib/errors.ts';

/** Float slack for schedules computed as sums of 1000/rate. */
const EPS = 1e-6;

/** A fake clock: `sleep` resolves at once and moves time forward by exactly what was asked. */
function fakeClock(start = 5_000) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    advance(ms: number) {
      t += ms;
    },
    sleeps,
  };
}

/** Takes `count` grants, all queued at once, and returns the fake time of each grant. */
async function grantTimes(bucket: TokenBucket, clock: { now: () => number }, count: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(Array.from({ length: count }, () => bucket.take().then(() => times.push(clock.now()))));
  return times;
}

function maxInAnyWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (let i = 0; i < times.length; i++) {
    let n = 0;
    for (let j = i; j < times.length && (times[j] as number) < (times[i] as number) + windowMs; j++) n++;
    max = Math.max(max, n);
  }
  return max;
}

async function rejectionOf(promise: Promise<unknown>): Promise<RateLimited> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimited);
    return error as RateLimited;
  }
  throw new Error('expected a rejection');
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - (times[i] as number));
}

describe('TokenBucket (fake clock)', () => {
  it('grants the first request at once, with no wait', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(20, clock);
    await bucket.take();
    expect(clock.now()).toBe(5_000);
    expect(clock.sleeps).toEqual([]);
  });

  it('has no burst at a cold start: the second grant comes a full interval after the first', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(20, clock);
    const times = await grantTimes(bucket, clock, 2);
    expect(times[0]).toBe(5_000);
    expect(times[1]).toBeGreaterThanOrEqual(5_000 + 50 - EPS);
  });

  it('spaces grants at least 1000/rate apart and never puts more than ⌊rate⌋ in any 1000 ms window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(1, 2.5, 7, 19.9, 20, 33.3, 100), fc.double({ min: 0.5, max: 200, noNaN: true })),
        fc.integer({ min: 2, max: 120 }),
        async (rate, count) => {
          const clock = fakeClock();
          const bucket = new TokenBucket(rate, clock);
          const times = await grantTimes(bucket, clock, count);
          expect(times).toHaveLength(count);
          for (const gap of gaps(times)) expect(gap).toBeGreaterThanOrEqual(1000 / rate - EPS);
          expect(maxInAnyWindow(times, 1000)).toBeLessThanOrEqual(Math.max(1, Math.floor(rate)));
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('keeps the spacing after an idle period (idle time is not banked as a burst)', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, clock);
    await grantTimes(bucket, clock, 5);
    clock.advance(10_000);
    const times = await grantTimes(bucket, clock, 5);
    for (const gap of gaps(times)) expect(gap).toBeGreaterThanOrEqual(100 - EPS);
  });

  it('holds the sliding window even for grants requested one after another with pauses between', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 10, maxLength: 150 }),
        async (rate, pauses) => {
          const clock = fakeClock();
          const bucket = new TokenBucket(rate, clock);
          const times: number[] = [];
          for (const pause of pauses) {
            clock.advance(pause);
            await bucket.take();
            times.push(clock.now());
          }
          expect(maxInAnyWindow(times, 1000)).toBeLessThanOrEqual(rate);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('keeps the spacing and near-budget throughput under steady load (no periodic short gaps)', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(20, clock);
    const times = await grantTimes(bucket, clock, 61);
    const short = gaps(times)
      .map((gap, i) => [i + 1, gap] as const)
      .filter(([, gap]) => gap < 50 - EPS);
    expect(short).toEqual([]);
    // 60 intervals of 50 ms, plus at most the 15 ms jitter guard per 20 grants.
    const span = (times[60] as number) - (times[0] as number);
    expect(span).toBeGreaterThanOrEqual(3000 - EPS);
    expect(span).toBeLessThanOrEqual(3100);
  });

  it('rejects take(maxWaitMs) with RateLimited RateBudgetExceeded when the queue is too long', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, clock);
    const queued = Array.from({ length: 5 }, () => bucket.take());
    // Five ahead at 100 ms each: 500 ms expected.
    const tooLong = bucket.take(250);
    await expect(tooLong).rejects.toBeInstanceOf(RateLimited);
    const error = await rejectionOf(tooLong);
    expect(error.name).toBe('RateLimited');
    expect(error.code).toBe(BUDGET_EXCEEDED);
    expect(BUDGET_EXCEEDED).toBe('RateBudgetExceeded');
    expect(error.statusCode).toBe(429);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterSeconds).toBe(1);
    expect(error.message).toContain('10 requests/second');
    // Within the limit it queues, and is granted after the five ahead of it.
    const order: number[] = [];
    const fits = bucket.take(600).then(() => order.push(6));
    await Promise.all([...queued.map((p, i) => p.then(() => order.push(i + 1))), fits]);
    expect(order).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('asks a caller behind a long queue to come back after the queue has drained', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, clock);
    const queued = Array.from({ length: 50 }, () => bucket.take());
    const error = await rejectionOf(bucket.take(1000));
    expect(error).toBeInstanceOf(RateLimited);
    expect(error.retryAfterSeconds).toBe(5);
    await Promise.all(queued);
  });

  it('rejects when the next slot itself is further away than maxWaitMs', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1, clock);
    await bucket.take();
    await expect(bucket.take(0)).rejects.toMatchObject({ code: BUDGET_EXCEEDED, name: 'RateLimited' });
    clock.advance(1000);
    await expect(bucket.take(0)).resolves.toBeUndefined();
  });

  it('a rejected take does not use a slot', async () => {
    const run = async (withRejected: boolean) => {
      const clock = fakeClock();
      const bucket = new TokenBucket(10, clock);
      const first = bucket.take();
      const second = bucket.take();
      if (withRejected) await expect(bucket.take(50)).rejects.toBeInstanceOf(RateLimited);
      await Promise.all([first, second]);
      await bucket.take();
      return clock.now();
    };
    expect(await run(true)).toBe(await run(false));
  });

  it('slowDown lowers the rate, widens the spacing, and the rate recovers to the budget', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(20, clock);
    await grantTimes(bucket, clock, 3);
    expect(bucket.rate).toBe(20);
    bucket.slowDown();
    expect(bucket.rate).toBeCloseTo(14, 9);
    expect(bucket.budget).toBe(20);
    const times = await grantTimes(bucket, clock, 40);
    // The slot already scheduled is kept; the one after it follows the lower rate.
    expect((times[2] as number) - (times[1] as number)).toBeGreaterThanOrEqual(1000 / 14.5);
    for (const gap of gaps(times)) expect(gap).toBeGreaterThanOrEqual(50 - EPS);
    expect(maxInAnyWindow(times, 1000)).toBeLessThanOrEqual(20);
    expect(bucket.rate).toBe(20);
    // Back at the budget, the cadence is the budget's again.
    const later = await grantTimes(bucket, clock, 5);
    for (const gap of gaps(later)) expect(gap).toBeCloseTo(50, 6);
  });

  it('slowDown never goes below a quarter of the budget', () => {
    const bucket = new TokenBucket(20, fakeClock());
    for (let i = 0; i < 20; i++) bucket.slowDown();
    expect(bucket.rate).toBe(5);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses the rate %s', (rate) => {
    expect(() => new TokenBucket(rate)).toThrow(RangeError);
  });
});

describe('TokenBucket (real time)', () => {
  it('paces 30 grants at 100/s over real timers', async () => {
    const bucket = new TokenBucket(100);
    const times: number[] = [];
    const start = performance.now();
    await Promise.all(Array.from({ length: 30 }, () => bucket.take().then(() => times.push(performance.now()))));
    const elapsed = (times[29] as number) - (times[0] as number);
    // Exact spacing is pinned with the fake clock; real timers add jitter, so allow one interval of slack.
    expect(elapsed).toBeGreaterThanOrEqual(28 * 10);
    expect(elapsed).toBeLessThan(2_000);
    expect((times[0] as number) - start).toBeLessThan(50);
    expect(maxInAnyWindow(times, 100)).toBeLessThanOrEqual(12);
  });
});
