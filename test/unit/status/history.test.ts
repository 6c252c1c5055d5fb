import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidInput } from '#lib/errors.ts';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import type { ObjectStore } from '#lib/lake/store.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { MAX_LAKE_RECORDS, history } from '#lib/status/history.ts';
import { LAKE_CONCURRENCY, MAX_LAKE_DAYS } from '#lib/status/lake-part.ts';
import { parseQuery, type RawQuery } from '#lib/status/query.ts';
import { byReceiveTime } from '#lib/receipt.ts';
import { MAX_LOOKBACK_SECONDS } from '#lib/tencent/types.ts';
import { utcDay } from '#lib/utc-day.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';
import {
  BUCKET,
  DAY,
  NEIGHBOUR,
  NOW,
  PHONE,
  PREFIX,
  SEAM,
  STRANGER,
  lakeOf,
  options,
  query,
  receipt,
  statusOf,
  tencent,
  truth,
  writeLake,
} from '../../support/lookup-world.ts';

describe('history: a window reaching past Tencent’s 7 days', () => {
  // Receipts every 5 hours over the last 30 days, for PHONE, its group neighbour and a stranger.
  const all: ExportRecord[] = [];
  for (let t = NOW - 30 * DAY, i = 0; t <= NOW; t += 5 * 3600, i++) {
    all.push(
      receipt(PHONE, `2433:p${i}`, t),
      receipt(NEIGHBOUR, `2433:n${i}`, t + 7),
      receipt(STRANGER, `2433:s${i}`, t + 11),
    );
  }
  const older = all.filter((r) => r.userReceiveTime < SEAM);
  const recent = all.filter((r) => r.userReceiveTime >= NOW - MAX_LOOKBACK_SECONDS);

  async function lakeStore(records = older): Promise<MemoryStore> {
    const store = memoryStore();
    await writeLake(store, records);
    store.reads.length = 0;
    return store;
  }

  it('reads the part older than the edge from the lake and the rest from Tencent, then merges them', async () => {
    const store = await lakeStore();
    const client = tencent(recent);
    const q = query({ beginTime: NOW - 20 * DAY });
    const { result } = await history(client, lakeOf(store), q, options);
    expect(result.statuses).toEqual(truth(all, q));
    expect(result.sources).toEqual([
      { source: 'lake', beginTime: q.beginTime, endTime: SEAM - 1, complete: true },
      { source: 'tencent', beginTime: SEAM, endTime: NOW, complete: true },
    ]);
    expect(result.complete).toBe(true);
    expect(result.requestIds.length).toBeGreaterThan(0);
    // Tencent is never asked past its edge, and the lake is read only for the days of its part, one object each.
    expect(Math.min(...client.calls.map((c) => c.beginTime))).toBe(SEAM);
    const days = Math.floor((SEAM - 1) / DAY) - Math.floor(q.beginTime / DAY) + 1;
    expect(store.reads).toHaveLength(days);
    expect(new Set(store.reads)).toEqual(
      new Set(Array.from({ length: days }, (_, i) => objectKey(PREFIX, utcDay(q.beginTime + i * DAY), groupOf(PHONE)))),
    );
  });

  it('keeps Tencent’s copy of a serialNo both hold, and sorts by receive time', async () => {
    const stale = receipt(PHONE, '2433:twice', SEAM - 30, { reportStatus: 'FAIL', description: 'UNKNOWN' });
    const fresh = receipt(PHONE, '2433:twice', SEAM + 30, { reportStatus: 'SUCCESS', description: 'DELIVRD' });
    const store = await lakeStore([...older, stale]);
    const q = query({ beginTime: NOW - 10 * DAY });
    const { result } = await history(tencent([...recent, fresh]), lakeOf(store), q, options);
    const twice = result.statuses.filter((s) => s.serialNo === '2433:twice');
    expect(twice).toEqual([statusOf(fresh)]);
    expect(new Set(result.statuses.map((s) => s.serialNo)).size).toBe(result.statuses.length);
    expect(result.statuses).toEqual([...result.statuses].sort(byReceiveTime));
  });

  it('a window wholly past the edge is the lake’s alone: no Tencent request', async () => {
    const client = tencent(recent);
    const q = query({ beginTime: NOW - 25 * DAY, endTime: NOW - 9 * DAY });
    const { result } = await history(client, lakeOf(await lakeStore()), q, options);
    expect(client.calls).toEqual([]);
    expect(result.requestIds).toEqual([]);
    expect(result.sources).toEqual([{ source: 'lake', beginTime: q.beginTime, endTime: q.endTime, complete: true }]);
    expect(result.statuses).toEqual(truth(all, q));
  });

  it('a window inside Tencent’s reach never reads the lake, and still says where it came from', async () => {
    const store = await lakeStore();
    const q = query({ beginTime: NOW - 2 * DAY });
    const { result } = await history(tencent(recent), lakeOf(store), q, options);
    expect(store.reads).toEqual([]);
    expect(result.sources).toEqual([{ source: 'tencent', beginTime: q.beginTime, endTime: NOW, complete: true }]);
    expect(result.statuses).toEqual(truth(all, q));
  });

  it('serialNo keeps only that receipt, from the lake or from Tencent', async () => {
    const store = await lakeStore();
    const fromLake = older.find((r) => r.phoneNumber === PHONE && r.userReceiveTime > NOW - 15 * DAY) as ExportRecord;
    const fromTencent = recent.find((r) => r.phoneNumber === PHONE && r.userReceiveTime > SEAM) as ExportRecord;
    for (const wanted of [fromLake, fromTencent]) {
      const { result } = await history(
        tencent(recent),
        lakeOf(store),
        query({ beginTime: NOW - 20 * DAY, serialNo: wanted.serialNo }),
        options,
      );
      expect(result.statuses).toEqual([statusOf(wanted)]);
      expect(result.complete).toBe(true);
    }
    // None with that serialNo: the lake still showed it holds the number, so the answer is complete.
    const { result: none } = await history(
      tencent(recent),
      lakeOf(store),
      query({ beginTime: NOW - 20 * DAY, serialNo: '2433:nope' }),
      options,
    );
    expect(none.statuses).toEqual([]);
    expect(none.complete).toBe(true);
  });

  it('refuses a window needing more than MAX_LAKE_DAYS day objects with a 400 naming beginTime, before any read or request', async () => {
    const store = await lakeStore();
    const client = tencent(recent);
    const lakeEnd = Math.floor((SEAM - 1) / DAY) * DAY;
    const tooFar = lakeEnd - MAX_LAKE_DAYS * DAY;
    const error = await history(client, lakeOf(store), query({ beginTime: tooFar }), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInput);
    expect(error).toMatchObject({ field: 'beginTime', statusCode: 400 });
    expect((error as Error).message).toContain('beginTime');
    expect((error as Error).message).toContain(String(MAX_LAKE_DAYS));
    expect(store.reads).toEqual([]);
    expect(client.calls).toEqual([]);
    // One day less is fine: exactly MAX_LAKE_DAYS objects, read LAKE_CONCURRENCY at a time.
    let inFlight = 0;
    let most = 0;
    const slow: ObjectStore = {
      ...store,
      async read(bucket, key) {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight -= 1;
        return store.read(bucket, key);
      },
    };
    await history(client, lakeOf(slow), query({ beginTime: tooFar + DAY }), options);
    expect(store.reads).toHaveLength(MAX_LAKE_DAYS);
    expect(most).toBe(LAKE_CONCURRENCY);
  });

  it('refuses a beginTime past the retention, and past 7 days when no lake is configured (400 naming beginTime)', () => {
    const reject = (raw: RawQuery, lakeRetentionDays?: number): InvalidInput => {
      try {
        parseQuery({ phoneNumber: PHONE, ...raw }, NOW, { lakeRetentionDays });
      } catch (error) {
        return error as InvalidInput;
      }
      throw new Error('expected a rejection');
    };
    expect(
      parseQuery({ phoneNumber: PHONE, beginTime: NOW - 400 * DAY }, NOW, { lakeRetentionDays: 400 }).beginTime,
    ).toBe(NOW - 400 * DAY);
    expect(reject({ beginTime: NOW - 400 * DAY - 1 }, 400)).toMatchObject({ field: 'beginTime', statusCode: 400 });
    expect(reject({ beginTime: NOW - 400 * DAY - 1 }, 400).message).toContain('400 days');
    expect(reject({ beginTime: NOW - 8 * DAY })).toMatchObject({ field: 'beginTime', statusCode: 400 });
    expect(reject({ beginTime: NOW - 8 * DAY }).message).toContain('no lake configured');
    expect(reject({ serialNo: 'x'.repeat(65) })).toMatchObject({ field: 'serialNo' });
    expect(reject({ serialNo: 'a b' })).toMatchObject({ field: 'serialNo' });
    // With a lake, an old endTime alone gives a 24-hour window, not a one-second one.
    expect(parseQuery({ phoneNumber: PHONE, endTime: NOW - 30 * DAY }, NOW, { lakeRetentionDays: 400 })).toMatchObject({
      beginTime: NOW - 31 * DAY,
    });
  });

  it('a missing day object means no receipts of that group that day', async () => {
    const store = await lakeStore();
    const gone = objectKey(PREFIX, utcDay(NOW - 12 * DAY), groupOf(PHONE));
    store.objects.delete(`${BUCKET}/${gone}`);
    const q = query({ beginTime: NOW - 20 * DAY });
    const { result } = await history(tencent(recent), lakeOf(store), q, options);
    expect(result.statuses).toEqual(
      truth(all, q).filter((s) => utcDay(s.userReceiveTime) !== utcDay(NOW - 12 * DAY) || s.userReceiveTime >= SEAM),
    );
    expect(result.complete).toBe(true);
  });

  it('a 403 from S3 (a role without ListBucket asking for a missing key) is a missing day too', async () => {
    const store = await lakeStore();
    const denying: ObjectStore = {
      ...store,
      async read(bucket, key) {
        if (key.includes(utcDay(NOW - 12 * DAY)))
          throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
        return store.read(bucket, key);
      },
    };
    const errors: string[] = [];
    const { result } = await history(
      tencent(recent),
      lakeOf(denying, { onDayError: (day) => errors.push(day) }),
      query({ beginTime: NOW - 20 * DAY }),
      options,
    );
    expect(result.complete).toBe(true);
    expect(errors).toEqual([]);
  });

  it('a corrupt day object makes the lake part incomplete, never an error; the other days still answer', async () => {
    const store = await lakeStore();
    const badDay = utcDay(NOW - 12 * DAY);
    const errors: Array<{ day: string; error: unknown }> = [];
    const lake = lakeOf(store, { onDayError: (day, error) => errors.push({ day, error }) });
    const q = query({ beginTime: NOW - 20 * DAY });
    const expected = truth(all, q).filter((s) => utcDay(s.userReceiveTime) !== badDay);
    for (const body of [
      Buffer.from('not gzip at all'),
      gzipSync(`{"serialNo":1,"phoneNumber":"${PHONE}"}\n`),
      (store.get(BUCKET, objectKey(PREFIX, badDay, groupOf(PHONE))) as Buffer).subarray(0, 40),
    ]) {
      store.put(BUCKET, objectKey(PREFIX, badDay, groupOf(PHONE)), body);
      errors.length = 0;
      const { result } = await history(tencent(recent), lake, q, options);
      expect(result.complete).toBe(false);
      expect(result.sources[0]).toMatchObject({ source: 'lake', complete: false });
      expect(result.sources[1]).toMatchObject({ source: 'tencent', complete: true });
      expect(result.statuses).toEqual(expected);
      expect(errors.map((e) => e.day)).toEqual([badDay]);
      expect(errors[0]?.error).toMatchObject({ name: 'CorruptObject' });
    }
  });

  it('a failing read (not corruption) makes the part incomplete too, and is reported', async () => {
    const store = await lakeStore();
    const failing: ObjectStore = {
      ...store,
      async read(bucket, key) {
        if (key.includes(utcDay(NOW - 12 * DAY)))
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return store.read(bucket, key);
      },
    };
    const errors: string[] = [];
    const { result } = await history(
      tencent(recent),
      lakeOf(failing, { onDayError: (day) => errors.push(day) }),
      query({ beginTime: NOW - 20 * DAY }),
      options,
    );
    expect(result.complete).toBe(false);
    expect(errors).toEqual([utcDay(NOW - 12 * DAY)]);
  });

  it('a lake part holding no receipt of the number is not complete: the lake may not cover that number', async () => {
    const store = await lakeStore(older.filter((r) => r.phoneNumber !== PHONE));
    const q = query({ beginTime: NOW - 20 * DAY });
    const { result } = await history(tencent(recent), lakeOf(store), q, options);
    expect(result.statuses).toEqual(truth(recent, q));
    expect(result.sources.map((s) => [s.source, s.complete])).toEqual([
      ['lake', false],
      ['tencent', true],
    ]);
    expect(result.complete).toBe(false);
  });

  it('keeps only the receipts of the configured SmsSdkAppId', async () => {
    const other = receipt(PHONE, '2433:other-app', NOW - 15 * DAY + 1, { sdkAppId: '1400999999' });
    const store = await lakeStore([...older, other]);
    const { result } = await history(tencent(recent), lakeOf(store), query({ beginTime: NOW - 20 * DAY }), options);
    expect(result.statuses.map((s) => s.serialNo)).not.toContain('2433:other-app');
  });

  it('without all, the lake part holds at most `limit` records (the earliest) and says it may be cut', async () => {
    const q = query({ beginTime: NOW - 20 * DAY, endTime: NOW - 10 * DAY, all: false, limit: 5 });
    const { result } = await history(tencent(recent), lakeOf(await lakeStore()), q, options);
    expect(result.statuses).toEqual(truth(all, q).slice(0, 5));
    expect(result.complete).toBe(false);
    expect(MAX_LAKE_RECORDS).toBeGreaterThanOrEqual(10_000);
  });

  it('property: over random windows, the answer is the truth inside the window', async () => {
    // Lake and Tencent overlap as they do in production: the lake holds everything up to an hour ago.
    let state = 7;
    const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
    const records: ExportRecord[] = [];
    for (let i = 0; i < 3000; i++) {
      const phoneNumber = [PHONE, PHONE, NEIGHBOUR, STRANGER][next() % 4] as string;
      records.push(receipt(phoneNumber, `2433:r${i}`, NOW - (next() % (80 * DAY))));
    }
    const store = memoryStore();
    await writeLake(
      store,
      records.filter((r) => r.userReceiveTime < NOW - 3600),
    );
    const client = tencent(records.filter((r) => r.userReceiveTime >= NOW - MAX_LOOKBACK_SECONDS));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 80 * DAY }),
        fc.integer({ min: 0, max: 80 * DAY }),
        fc.boolean(),
        async (a, b, pickSerial) => {
          const [beginAgo, endAgo] = a > b ? [a, b] : [b, a];
          const serialNo = pickSerial
            ? records.find((r) => r.phoneNumber === PHONE && r.userReceiveTime >= NOW - beginAgo)?.serialNo
            : undefined;
          const q = query({ beginTime: NOW - beginAgo, endTime: NOW - endAgo, ...(serialNo && { serialNo }) });
          const { result } = await history(client, lakeOf(store), q, options);
          expect(result.statuses).toEqual(truth(records, q));
          expect(result.complete).toBe(result.sources.every((s) => s.complete));
          const lake = result.sources.find((s) => s.source === 'lake');
          if (lake) {
            const covered = records.some(
              (r) =>
                r.phoneNumber === PHONE && r.userReceiveTime >= lake.beginTime && r.userReceiveTime <= lake.endTime,
            );
            expect(lake.complete).toBe(covered);
          }
          expect(result.sources.at(-1)?.endTime).toBe(q.endTime);
          expect(result.sources[0]?.beginTime).toBe(q.beginTime);
        },
      ),
      { seed: 20250615, numRuns: 150 },
    );
  });
});
