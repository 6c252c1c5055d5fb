import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_COLLECT_OPTIONS, collect, type CollectQuery } from '#lib/status/collect.ts';
import type { StatusRecord } from '#lib/receipt.ts';
import { UpstreamUnavailable } from '#lib/errors.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { fakeClock } from '../../support/fake-clock.ts';
import { fakeTencentApi, type FakeTencentApi, type FakeTencentOptions } from '../../support/fake-tencent.ts';

const PHONE = '+8613711112222';
const BEGIN = 1_714_000_000;

/**
 * Tencent holding `records` (one number's), answering after 0–3 event-loop turns drawn from `seed`'s
 * stream, so a fast-check seed reproduces the shuffles and timings and concurrent windows finish out of order.
 */
function tencent(
  records: PullSmsSendStatus[],
  seed: number,
  options: Pick<FakeTencentOptions, 'fail' | 'extra' | 'clock' | 'requestMs'> = {},
): FakeTencentApi {
  return fakeTencentApi({ receipts: () => records, seed, turns: 'random', ...options });
}

function status(serialNo: string, userReceiveTime: number, extra: Partial<PullSmsSendStatus> = {}): PullSmsSendStatus {
  return {
    SerialNo: serialNo,
    UserReceiveTime: userReceiveTime,
    PhoneNumber: PHONE,
    CountryCode: '86',
    SubscriberNumber: '13711112222',
    ReportStatus: userReceiveTime % 7 === 0 ? 'FAIL' : 'SUCCESS',
    Description: userReceiveTime % 7 === 0 ? 'UNDELIV' : 'DELIVRD',
    ...extra,
  };
}

function expectedRecord(s: PullSmsSendStatus): StatusRecord {
  return {
    serialNo: s.SerialNo as string,
    phoneNumber: s.PhoneNumber as string,
    countryCode: s.CountryCode as string,
    subscriberNumber: s.SubscriberNumber as string,
    reportStatus: s.ReportStatus as string,
    description: s.Description as string,
    userReceiveTime: s.UserReceiveTime as number,
  };
}

/** The truth, computed independently of the library: unique serials, by time then serial number. */
function truth(records: PullSmsSendStatus[], beginTime: number, endTime: number): StatusRecord[] {
  const unique = new Map<string, StatusRecord>();
  for (const s of records) {
    const t = s.UserReceiveTime as number;
    if (t >= beginTime && t <= endTime && !unique.has(s.SerialNo as string))
      unique.set(s.SerialNo as string, expectedRecord(s));
  }
  return [...unique.values()].sort((a, b) =>
    a.userReceiveTime !== b.userReceiveTime
      ? a.userReceiveTime - b.userReceiveTime
      : a.serialNo < b.serialNo
        ? -1
        : a.serialNo > b.serialNo
          ? 1
          : 0,
  );
}

function requestBound(n: number, w: number): number {
  return 1 + 2 * Math.ceil(n / 100) * Math.ceil(Math.log2(w + 1));
}

function expectSortedUnique(records: StatusRecord[]): void {
  expect(new Set(records.map((r) => r.serialNo)).size).toBe(records.length);
  for (let i = 1; i < records.length; i++) {
    const a = records[i - 1] as StatusRecord;
    const b = records[i] as StatusRecord;
    expect(
      a.userReceiveTime < b.userReceiveTime || (a.userReceiveTime === b.userReceiveTime && a.serialNo < b.serialNo),
    ).toBe(true);
  }
}

/**
 * Records over a window of `span + 1` seconds (W = span), with some outside it: clusters of up to
 * `perSecondMax` records in one second (these force splits) and a scattering of single records.
 * Serial numbers are unique and do not sort in insertion order.
 */
function dataset(perSecondMax: number, spanMax: number) {
  return fc
    .record({
      span: fc.integer({ min: 0, max: spanMax }),
      clusters: fc.array(fc.record({ at: fc.nat(), count: fc.integer({ min: 1, max: perSecondMax }) }), {
        maxLength: 25,
      }),
      scattered: fc.array(fc.nat(), { maxLength: 400 }),
      seed: fc.integer(),
      concurrency: fc.integer({ min: 1, max: 8 }),
    })
    .map(({ span, clusters, scattered, seed, concurrency }) => {
      const place = (at: number) => BEGIN - 20 + (at % (span + 41));
      const perSecond = new Map<number, number>();
      for (const { at, count } of clusters) perSecond.set(place(at), (perSecond.get(place(at)) ?? 0) + count);
      for (const at of scattered) perSecond.set(place(at), (perSecond.get(place(at)) ?? 0) + 1);
      const records: PullSmsSendStatus[] = [];
      for (const [second, count] of perSecond) {
        for (let i = 0; i < Math.min(count, perSecondMax); i++) {
          const n = records.length;
          records.push(status(`14:${((n * 2654435761) >>> 0).toString(16)}-${n}`, second));
        }
      }
      return { records, beginTime: BEGIN, endTime: BEGIN + span, seed, concurrency };
    });
}

function allQuery(beginTime: number, endTime: number): CollectQuery {
  return { phoneNumber: PHONE, beginTime, endTime, limit: 100, all: true };
}

describe('collect(all: true)', () => {
  it('returns exactly the truth, complete, within the request bound, when no second holds 100 records', async () => {
    await fc.assert(
      fc.asyncProperty(dataset(99, 20_000), async ({ records, beginTime, endTime, seed, concurrency }) => {
        const client = tencent(records, seed);
        const expected = truth(records, beginTime, endTime);
        const result = await collect(client, allQuery(beginTime, endTime), { maxRequests: 100_000, concurrency });

        expect(result.records).toEqual(expected);
        expect(result.complete).toBe(true);
        expectSortedUnique(result.records);
        expect(result.requests).toBe(client.calls.length);
        expect(result.requestIds).toHaveLength(client.calls.length);
        expect(new Set(result.requestIds).size).toBe(client.calls.length);
        expect(result.requests).toBeLessThanOrEqual(requestBound(expected.length, endTime - beginTime));
        expect(client.maxInFlight).toBeLessThanOrEqual(concurrency);
        for (const call of client.calls) {
          expect(call.phoneNumber).toBe(PHONE);
          expect(call.limit).toBe(100);
          expect(call.beginTime).toBeGreaterThanOrEqual(beginTime);
          expect(call.endTime).toBeLessThanOrEqual(endTime);
          expect(call.beginTime).toBeLessThanOrEqual(call.endTime);
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('needs one request for fewer than 100 records and cuts the window at exactly 100', async () => {
    const few = Array.from({ length: 99 }, (_, i) => status(`s${i}`, BEGIN + i));
    const one = await collect(tencent(few, 1), allQuery(BEGIN, BEGIN + 3600));
    expect(one).toMatchObject({ complete: true, requests: 1, requestIds: ['rid-1'] });
    expect(one.records).toHaveLength(99);

    const hundred = Array.from({ length: 100 }, (_, i) => status(`s${i}`, BEGIN + i));
    const client = tencent(hundred, 1);
    const split = await collect(client, allQuery(BEGIN, BEGIN + 3600), { maxRequests: 1000, concurrency: 1 });
    expect(split.complete).toBe(true);
    expect(split.records).toHaveLength(100);
    expect(client.calls[0]).toMatchObject({ beginTime: BEGIN, endTime: BEGIN + 3600 });
    expect(client.calls.length).toBeGreaterThan(1);
    expect(client.calls.length).toBeLessThanOrEqual(2 * 1 + 3);
  });

  it('terminates with complete === false when a second holds more than 100 records, keeping every other record', async () => {
    await fc.assert(
      fc.asyncProperty(
        dataset(99, 5000),
        fc.array(fc.record({ at: fc.nat(), count: fc.integer({ min: 101, max: 400 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        async ({ records, beginTime, endTime, seed, concurrency }, saturated) => {
          const busy = new Set<number>();
          const all = [...records];
          for (const { at, count } of saturated) {
            const second = beginTime + (at % (endTime - beginTime + 1));
            if (busy.has(second)) continue;
            busy.add(second);
            for (let i = 0; i < count; i++) all.push(status(`busy-${second}-${i}`, second));
          }
          const client = tencent(all, seed);
          const expected = truth(all, beginTime, endTime);
          const result = await collect(client, allQuery(beginTime, endTime), { maxRequests: 100_000, concurrency });

          expect(result.complete).toBe(false);
          expectSortedUnique(result.records);
          const returned = new Set(result.records.map((r) => r.serialNo));
          const truthBySerial = new Map(expected.map((r) => [r.serialNo, r]));
          for (const r of result.records) expect(r).toEqual(truthBySerial.get(r.serialNo));
          // Every record of a second under the limit is found; each saturated second gives at least a page.
          for (const r of expected) {
            if (!busy.has(r.userReceiveTime)) expect(returned.has(r.serialNo)).toBe(true);
          }
          for (const second of busy) {
            expect(result.records.filter((r) => r.userReceiveTime === second).length).toBeGreaterThanOrEqual(100);
          }
          expect(result.requests).toBeLessThanOrEqual(requestBound(expected.length, endTime - beginTime));
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });

  it('stops at maxRequests and reports the answer incomplete', async () => {
    await fc.assert(
      fc.asyncProperty(
        dataset(99, 5000),
        fc.integer({ min: 1, max: 12 }),
        async ({ records, beginTime, endTime, seed, concurrency }, maxRequests) => {
          // The split tree depends only on counts per window, so an uncapped pull tells how many requests are needed.
          const needed = (
            await collect(tencent(records, seed), allQuery(beginTime, endTime), { maxRequests: 100_000, concurrency })
          ).requests;
          const client = tencent(records, seed);
          const result = await collect(client, allQuery(beginTime, endTime), { maxRequests, concurrency });
          expect(result.requests).toBe(Math.min(maxRequests, needed));
          expect(client.calls.length).toBe(result.requests);
          expect(result.complete).toBe(maxRequests >= needed);
          if (maxRequests >= needed) expect(result.records).toEqual(truth(records, beginTime, endTime));
          expectSortedUnique(result.records);
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  it('gives complete === false with a cap of one request over a full first page', async () => {
    const records = Array.from({ length: 500 }, (_, i) => status(`s${i}`, BEGIN + 2 * i));
    const client = tencent(records, 7);
    const result = await collect(client, allQuery(BEGIN, BEGIN + 1000), { maxRequests: 1, concurrency: 4 });
    expect(result).toMatchObject({ complete: false, requests: 1, requestIds: ['rid-1'] });
    expect(result.records).toHaveLength(100);
    expect(client.calls).toHaveLength(1);
  });

  it('removes duplicates the server returns, within and across pages', async () => {
    await fc.assert(
      fc.asyncProperty(dataset(45, 3000), async ({ records, beginTime, endTime, seed, concurrency }) => {
        // Every receipt stored twice (still under 100 per second), and each page repeats its first entry.
        const doubled = records.flatMap((s) => [s, { ...s }]);
        const client = tencent(doubled, seed, { extra: (page) => page.slice(0, 1) });
        const result = await collect(client, allQuery(beginTime, endTime), { maxRequests: 100_000, concurrency });
        expect(result.records).toEqual(truth(records, beginTime, endTime));
        expect(result.complete).toBe(true);
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('uses the default options when none are given', async () => {
    expect(DEFAULT_COLLECT_OPTIONS).toEqual({ maxRequests: 1000, concurrency: 4 });
    const records = Array.from({ length: 1000 }, (_, i) => status(`s${i}`, BEGIN + (i % 600)));
    const client = tencent(records, 3);
    const result = await collect(client, allQuery(BEGIN, BEGIN + 599));
    expect(result.records).toEqual(truth(records, BEGIN, BEGIN + 599));
    expect(client.maxInFlight).toBeLessThanOrEqual(4);
  });
});

describe('collect(all: false)', () => {
  it('sends one request and is incomplete exactly when the page is full', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 3600 }),
        fc.integer(),
        async (limit, count, span, seed) => {
          const records = Array.from({ length: count }, (_, i) =>
            status(`14:${(i * 40503) % 65521}-${i}`, BEGIN + ((i * 37) % (span + 1))),
          );
          const client = tencent(records, seed);
          const query: CollectQuery = {
            phoneNumber: PHONE,
            beginTime: BEGIN,
            endTime: BEGIN + span,
            limit,
            all: false,
          };
          const result = await collect(client, query);

          expect(client.calls).toHaveLength(1);
          expect(client.calls[0]).toMatchObject({ phoneNumber: PHONE, beginTime: BEGIN, endTime: BEGIN + span, limit });
          expect(result.requests).toBe(1);
          expect(result.requestIds).toEqual(['rid-1']);
          expect(result.records).toHaveLength(Math.min(count, limit));
          expect(result.complete).toBe(count < limit);
          expectSortedUnique(result.records);
          const truthBySerial = new Map(truth(records, BEGIN, BEGIN + span).map((r) => [r.serialNo, r]));
          for (const r of result.records) expect(r).toEqual(truthBySerial.get(r.serialNo));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('removes duplicates within the page', async () => {
    const records = [status('b', BEGIN + 5), status('a', BEGIN + 5), status('c', BEGIN + 1)];
    const client = tencent(records, 9, { extra: (page) => page.map((s) => ({ ...s })) });
    const result = await collect(client, {
      phoneNumber: PHONE,
      beginTime: BEGIN,
      endTime: BEGIN + 10,
      limit: 50,
      all: false,
    });
    expect(result.records.map((r) => r.serialNo)).toEqual(['c', 'a', 'b']);
    expect(result.complete).toBe(true);
  });

  it('propagates a client error', async () => {
    const error = new UpstreamUnavailable('down', { code: 'InternalError.Timeout' });
    const client = tencent([], 1, { fail: () => error });
    await expect(
      collect(client, { phoneNumber: PHONE, beginTime: BEGIN, endTime: BEGIN + 10, limit: 5, all: false }),
    ).rejects.toBe(error);
  });
});

describe('pull errors', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  it('rejects with a client error, starts no window after rejecting, and leaves no unhandled rejection', async () => {
    await fc.assert(
      fc.asyncProperty(
        dataset(99, 5000),
        fc.integer({ min: 1, max: 20 }),
        fc.boolean(),
        async ({ records, beginTime, endTime, seed, concurrency }, failAt, failLater) => {
          // Enough records that the pull needs several windows.
          const dense = [
            ...records,
            ...Array.from({ length: 600 }, (_, i) => status(`d${i}`, beginTime + (i % (endTime - beginTime + 1)))),
          ];
          const errors = new Map<number, Error>();
          const client = tencent(dense, seed, {
            fail: (_, n) => {
              if (n === failAt || (failLater && n > failAt)) {
                const error = new UpstreamUnavailable(`call ${n} failed`, { code: 'InternalError' });
                errors.set(n, error);
                return error;
              }
              return undefined;
            },
          });
          const needed = (
            await collect(tencent(dense, seed), allQuery(beginTime, endTime), { maxRequests: 100_000, concurrency })
          ).requests;
          const outcome = collect(client, allQuery(beginTime, endTime), { maxRequests: 100_000, concurrency });
          if (failAt > needed) {
            await expect(outcome).resolves.toMatchObject({ requests: needed });
            return;
          }
          const reason = await outcome.then(
            () => undefined,
            (error: unknown) => error,
          );
          expect([...errors.values()]).toContain(reason);
          const startedAtRejection = client.calls.length;
          expect(startedAtRejection).toBeGreaterThanOrEqual(failAt);
          await settle();
          expect(client.calls.length).toBe(startedAtRejection);
          expect(unhandled).toEqual([]);
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  it('rejects when the very first request fails', async () => {
    const error = new Error('socket hang up');
    const client = tencent([], 1, { fail: () => error });
    await expect(collect(client, allQuery(BEGIN, BEGIN + 100))).rejects.toBe(error);
    await settle();
    expect(client.calls).toHaveLength(1);
    expect(unhandled).toEqual([]);
  });

  it('rejects when several concurrent windows fail at once', async () => {
    const records = Array.from({ length: 2000 }, (_, i) => status(`s${i}`, BEGIN + (i % 1000)));
    // The first page samples the window and the walk's first window is full too: its two halves and the
    // rest of the walk then go out at once, and all three fail.
    const client = tencent(records, 5, { fail: (_, n) => (n > 2 ? new UpstreamUnavailable(`call ${n}`) : undefined) });
    await expect(
      collect(client, allQuery(BEGIN, BEGIN + 999), { maxRequests: 1000, concurrency: 8 }),
    ).rejects.toBeInstanceOf(UpstreamUnavailable);
    await settle();
    expect(client.calls).toHaveLength(2 + 3);
    expect(unhandled).toEqual([]);
  });
});

describe('pull: the deadline', () => {
  it('asks for no new window after stopAt and answers incomplete with what it has, against a slow Tencent', async () => {
    const records = Array.from({ length: 900 }, (_, i) => status(`s${i}`, BEGIN + i * 3));
    const clock = fakeClock(0);
    // Every answer takes 1.5 s of the fake clock.
    const client = tencent(records, 9, { clock, requestMs: 1500 });
    const result = await collect(client, allQuery(BEGIN, BEGIN + 2700), {
      maxRequests: 1000,
      concurrency: 1,
      stopAt: 6000,
      now: clock.now,
    });
    expect(client.calls).toHaveLength(4);
    expect(result.complete).toBe(false);
    expect(result.incompleteWindows.length).toBeGreaterThan(0);
    expect(result.records.length).toBeGreaterThan(0);
    const truthSerials = new Set(truth(records, BEGIN, BEGIN + 2700).map((r) => r.serialNo));
    for (const r of result.records) expect(truthSerials.has(r.serialNo)).toBe(true);
  });
});
