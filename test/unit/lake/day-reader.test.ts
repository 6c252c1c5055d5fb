import { describe, expect, it } from 'vitest';
import { CorruptObject } from '#lib/lake/corrupt.ts';
import { lakeDays, type LakeRecord } from '#lib/lake/day-reader.ts';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import { toLine, type ExportRecord } from '#lib/lake/line.ts';
import type { ObjectStore } from '#lib/lake/store.ts';
import { gzipLines, lakeRecord } from '../../support/lake.ts';
import { memoryStore } from '../../support/memory-store.ts';

const BUCKET = 'exports';
const PREFIX = 'sms-status';
const DAY = '2024-05-01';
const T0 = Date.UTC(2024, 4, 1, 8) / 1000;
const NUMBER = '+8613711112222';
/** A number whose text holds NUMBER's: a reader matching substrings would mix them up. */
const LONGER = '+86137111122223';
const KEY = objectKey(PREFIX, DAY, groupOf(NUMBER));

function mine(serial: number, at: number, overrides: Partial<ExportRecord> = {}): ExportRecord {
  return lakeRecord(serial, at, { phoneNumber: NUMBER, ...overrides });
}

function other(serial: number, at: number): ExportRecord {
  return lakeRecord(serial, at, { phoneNumber: LONGER, subscriberNumber: LONGER.slice(3) });
}

async function all(records: AsyncIterable<LakeRecord>): Promise<{ got: LakeRecord[]; error?: unknown }> {
  const got: LakeRecord[] = [];
  try {
    for await (const record of records) got.push(record);
    return { got };
  } catch (error) {
    return { got, error };
  }
}

function failingRead(error: unknown): Pick<ObjectStore, 'read'> {
  return { read: async () => Promise.reject(error) };
}

describe('lakeDays', () => {
  it('streams the records of one number from its group’s object of that day, in stored order', async () => {
    const store = memoryStore();
    const stored = [mine(1, T0 + 30), other(2, T0 + 31), mine(3, T0 + 5), other(4, T0 + 40), mine(5, T0 + 50)];
    store.put(BUCKET, KEY, gzipLines(stored.map(toLine)));
    const { got, error } = await all(lakeDays(store, BUCKET, PREFIX).records(DAY, NUMBER));
    expect(error).toBeUndefined();
    expect(got).toEqual([mine(1, T0 + 30), mine(3, T0 + 5), mine(5, T0 + 50)]);
    expect(store.reads).toEqual([KEY]);
  });

  it('reads a line without sdkAppId, or with fields of the wrong type, as the record it can be', async () => {
    const store = memoryStore();
    const { sdkAppId: _dropped, ...noApp } = mine(1, T0);
    const mistyped = { ...mine(2, T0 + 1), reportStatus: 7, description: null, sdkAppId: 1 };
    store.put(BUCKET, KEY, gzipLines([JSON.stringify(noApp), JSON.stringify(mistyped)]));
    const { got } = await all(lakeDays(store, BUCKET, PREFIX).records(DAY, NUMBER));
    const read = { ...noApp, serialNo: mistyped.serialNo, userReceiveTime: T0 + 1, reportStatus: '', description: '' };
    expect(got).toEqual([noApp, read]);
  });

  it('no object, or one the role may not read (AccessDenied, a 403), is no record', async () => {
    expect((await all(lakeDays(memoryStore(), BUCKET, PREFIX).records(DAY, NUMBER))).got).toEqual([]);
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    const forbidden = Object.assign(new Error('Forbidden'), { name: 'Unknown', $metadata: { httpStatusCode: 403 } });
    for (const error of [denied, forbidden]) {
      expect(await all(lakeDays(failingRead(error), BUCKET, PREFIX).records(DAY, NUMBER))).toEqual({ got: [] });
    }
  });

  it('any other failure of the read is that failure', async () => {
    const error = Object.assign(new Error('S3 is down'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect((await all(lakeDays(failingRead(error), BUCKET, PREFIX).records(DAY, NUMBER))).error).toBe(error);
  });

  it('a corrupt object: the records read before the damage, then a CorruptObject naming it', async () => {
    const store = memoryStore();
    const stored = Array.from({ length: 60 }, (_, i) => mine(i, T0 + i));
    const whole = gzipLines(stored.map(toLine));
    store.put(BUCKET, KEY, whole.subarray(0, Math.floor(whole.length * 0.7)));
    const { got, error } = await all(lakeDays(store, BUCKET, PREFIX).records(DAY, NUMBER));
    expect(error).toBeInstanceOf(CorruptObject);
    expect((error as CorruptObject).key).toBe(KEY);
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(stored.slice(0, got.length));
  });

  it('a line of the number that is no delivery record is a CorruptObject; garbage is too', async () => {
    const store = memoryStore();
    store.put(BUCKET, KEY, gzipLines([toLine(mine(1, T0)), `{"phoneNumber":"${NUMBER}"}`]));
    const { got, error } = await all(lakeDays(store, BUCKET, PREFIX).records(DAY, NUMBER));
    expect(got).toEqual([mine(1, T0)]);
    expect(error).toBeInstanceOf(CorruptObject);
    store.put(BUCKET, KEY, Buffer.from('not gzip'));
    expect((await all(lakeDays(store, BUCKET, PREFIX).records(DAY, NUMBER))).error).toBeInstanceOf(CorruptObject);
  });

  it('a reader that stops early lets the object go', async () => {
    const store = memoryStore();
    store.put(BUCKET, KEY, gzipLines(Array.from({ length: 50 }, (_, i) => toLine(mine(i, T0 + i)))));
    const object = await store.read(BUCKET, KEY);
    const reads: Pick<ObjectStore, 'read'> = { read: async () => object };
    for await (const record of lakeDays(reads, BUCKET, PREFIX).records(DAY, NUMBER)) {
      expect(record).toEqual(mine(0, T0));
      break;
    }
    expect(object?.body.destroyed).toBe(true);
  });

  it('an empty object is no record, and no error', async () => {
    const store = memoryStore();
    store.put(BUCKET, KEY, gzipLines([]));
    expect(await all(lakeDays(store, BUCKET, PREFIX).records(DAY, NUMBER))).toEqual({ got: [] });
  });
});
