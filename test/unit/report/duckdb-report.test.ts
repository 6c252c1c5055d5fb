/**
 * The report engine as the CLI runs it — the queries/*.sql files through DuckDB over day objects read
 * from a store — held against the report worked out by hand from the same receipts
 * (test/support/report-truth.ts). The store is in memory; DuckDB and the SQL are the real ones.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportRecord } from '#lib/lake/line.ts';
import { deliveryReport } from '#lib/report/build.ts';
import type { DeliveryReport } from '#lib/report/report.ts';
import type { Section } from '#lib/report/sections.ts';
import type { ReportWindow } from '#lib/report/window.ts';
import { duckDbEngine } from '../../../cli/report/duckdb-engine.ts';
import { reportQueries } from '../../../cli/report/queries.ts';
import { prng } from '../../../local/twin/data.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';
import { expectedReport, lakeObjectsOf } from '../../support/report-truth.ts';

const BUCKET = 'lake';
const PREFIX = 'sms-status';
const DAY = 86_400;
/** 2025-06-10T00:00:00Z */
const D0 = 1_749_513_600;

let queries: Record<Section, string>;
let spill: string;

beforeAll(async () => {
  queries = await reportQueries();
  spill = await mkdtemp(join(tmpdir(), 'report-unit-'));
});
afterAll(() => rm(spill, { recursive: true, force: true }));

let serial = 0;
function receipt(fields: Partial<ExportRecord> & Pick<ExportRecord, 'userReceiveTime'>): ExportRecord {
  const phoneNumber = fields.phoneNumber ?? '+8613711112222';
  const countryCode = fields.countryCode ?? (phoneNumber.startsWith('+1') ? '1' : '86');
  return {
    serialNo: `2433:${(serial += 1)}`,
    phoneNumber,
    countryCode,
    subscriberNumber: phoneNumber.slice(1 + countryCode.length),
    reportStatus: 'SUCCESS',
    description: 'DELIVRD',
    sdkAppId: '1400000000',
    ...fields,
  };
}

function lakeOf(records: ExportRecord[]): MemoryStore {
  const store = memoryStore();
  for (const [key, body] of lakeObjectsOf(PREFIX, records)) store.put(BUCKET, key, body);
  return store;
}

function report(store: MemoryStore, window: ReportWindow): Promise<DeliveryReport> {
  return deliveryReport(
    { store, bucket: BUCKET, prefix: PREFIX, engine: duckDbEngine({ tmpDir: spill }), queries },
    window,
  );
}

const DESCRIPTIONS = [
  'UNDELIV',
  'EXPIRED',
  'REJECTD',
  'MK:0005',
  'DB:0141',
  'say "no", then go',
  "it's, odd",
  'Ünïcödé — 失败',
  '😀 emoji',
  'ｚ fullwidth',
  'line\nbreak',
];
const COUNTRIES: Array<[string, string]> = [
  ['+86137', '86'],
  ['+1415', '1'],
  ['+44770', '44'],
  ['+85291', '852'],
  ['+6591', '65'],
];

/** Receipts over 6 days from D0: several countries, failure codes with quotes, commas and Unicode, repeat failers. */
function mixedLake(count: number, seed: number): ExportRecord[] {
  const random = prng(seed);
  return Array.from({ length: count }, () => {
    const [start, countryCode] = COUNTRIES[Math.floor(random() * COUNTRIES.length)] as [string, string];
    const phoneNumber = `${start}${String(Math.floor(random() * 40)).padStart(6, '0')}`;
    const failed = random() < 0.3;
    const status = failed ? 'FAIL' : random() < 0.02 ? 'UNKNOWN' : 'SUCCESS';
    const description = failed ? (DESCRIPTIONS[Math.floor(random() * DESCRIPTIONS.length)] as string) : 'DELIVRD';
    return receipt({
      phoneNumber,
      countryCode,
      reportStatus: status,
      description,
      userReceiveTime: D0 + Math.floor(random() * 6 * DAY),
    });
  });
}

describe('the report over a lake, against the hand-computed truth', () => {
  const records = mixedLake(6000, 7);
  const store = lakeOf(records);

  it('a window whose edges fall inside days: every section equals the truth', async () => {
    const window = { beginTime: D0 + DAY + 13 * 3600 + 17, endTime: D0 + 5 * DAY + 3600 - 1 };
    const expected = expectedReport(records, window);
    expect(expected.byDay.length).toBe(5);
    expect(expected.topFailures).toHaveLength(10);
    expect(expected.repeatFailures.length).toBeGreaterThan(20);
    expect(await report(store, window)).toEqual(expected);
  });

  it('the whole lake, and a window of a few hours inside one day', async () => {
    for (const window of [
      { beginTime: D0, endTime: D0 + 6 * DAY },
      { beginTime: D0 + 2 * DAY + 3600, endTime: D0 + 2 * DAY + 5 * 3600 },
    ]) {
      expect(await report(store, window)).toEqual(expectedReport(records, window));
    }
  });

  it("reads only the window's days: one listing and the objects of each dt= day, no other", async () => {
    const lake = lakeOf(records);
    const listed: string[] = [];
    const list = lake.list.bind(lake);
    lake.list = async (bucket, prefix, limit) => (listed.push(prefix), list(bucket, prefix, limit));
    await report(lake, { beginTime: D0 + 2 * DAY + 60, endTime: D0 + 4 * DAY });
    expect(listed.sort()).toEqual([`${PREFIX}/statuses/dt=2025-06-12/`, `${PREFIX}/statuses/dt=2025-06-13/`]);
    expect(lake.reads.length).toBeGreaterThan(0);
    for (const key of lake.reads) expect(key).toMatch(/\/dt=2025-06-1[23]\//);
  });
});

describe('edges of the window', () => {
  it('a receipt exactly at begin is in, one exactly at end is out (and the seconds beside them)', async () => {
    const begin = D0 + DAY + 7;
    const end = D0 + 2 * DAY;
    const at = (t: number, reportStatus = 'FAIL'): ExportRecord =>
      receipt({ userReceiveTime: t, reportStatus, description: `t${t - begin}` });
    const records = [at(begin - 1), at(begin), at(begin + 1), at(end - 1), at(end), at(end + 1)];
    const result = await report(lakeOf(records), { beginTime: begin, endTime: end });
    expect(result).toEqual(expectedReport(records, { beginTime: begin, endTime: end }));
    expect(result.failed).toBe(3);
    expect(result.topFailures.map((f) => f.description).sort()).toEqual(['t0', 't1', `t${end - 1 - begin}`].sort());
    expect(result.byDay.map((d) => d.day)).toEqual(['2025-06-11']);
  });

  it('an end at midnight reads no day past it; a receipt at that midnight is out', async () => {
    const records = [
      receipt({ userReceiveTime: D0 + DAY - 1 }),
      receipt({ userReceiveTime: D0 + DAY, reportStatus: 'FAIL' }),
    ];
    const store = lakeOf(records);
    const result = await report(store, { beginTime: D0, endTime: D0 + DAY });
    expect(result).toMatchObject({ receipts: 1, delivered: 1, failed: 0, deliveryRate: 1 });
    expect(store.reads.every((key) => key.includes('dt=2025-06-10/'))).toBe(true);
  });
});

describe('empty and one-sided windows', () => {
  const EMPTY = {
    receipts: 0,
    delivered: 0,
    failed: 0,
    deliveryRate: null,
    byDay: [],
    byCountry: [],
    topFailures: [],
    repeatFailures: [],
  };

  it('no day object at all: zeros (not NULL: Trino count_if), a null rate, empty sections', async () => {
    const window = { beginTime: D0, endTime: D0 + 3 * DAY };
    expect(await report(memoryStore(), window)).toEqual({ ...window, ...EMPTY });
  });

  it('day objects whose receipts all lie outside the window: the same', async () => {
    const records = [
      receipt({ userReceiveTime: D0 + 10 }),
      receipt({ userReceiveTime: D0 + DAY - 1, reportStatus: 'FAIL' }),
    ];
    const window = { beginTime: D0 + 11, endTime: D0 + DAY - 1 };
    expect(await report(lakeOf(records), window)).toEqual({ ...window, ...EMPTY });
  });

  it('no FAIL: deliveryRate 1, no top failures, no repeat failures', async () => {
    const records = Array.from({ length: 30 }, (_, i) =>
      receipt({ userReceiveTime: D0 + i * 3000, phoneNumber: i % 2 ? '+14155550123' : '+8613711112222' }),
    );
    const result = await report(lakeOf(records), { beginTime: D0, endTime: D0 + 2 * DAY });
    expect(result).toMatchObject({
      receipts: 30,
      delivered: 30,
      failed: 0,
      deliveryRate: 1,
      topFailures: [],
      repeatFailures: [],
    });
    expect(result.byCountry.map((c) => c.deliveryRate)).toEqual([1, 1]);
  });

  it('receipts neither SUCCESS nor FAIL count as receipts and leave the rate null', async () => {
    const records = [receipt({ userReceiveTime: D0 + 5, reportStatus: 'UNKNOWN', description: '' })];
    const result = await report(lakeOf(records), { beginTime: D0, endTime: D0 + DAY });
    expect(result).toMatchObject({ receipts: 1, delivered: 0, failed: 0, deliveryRate: null });
    expect(result.byDay).toEqual([{ day: '2025-06-10', receipts: 1, delivered: 0, failed: 0, deliveryRate: null }]);
  });
});

describe('rounding and orderings', () => {
  it('deliveryRate rounds half up at the fourth decimal exactly, where doubles would not (3/20000, 19999/20000)', async () => {
    const day = (d: number, delivered: number, failed: number): ExportRecord[] =>
      Array.from({ length: delivered + failed }, (_, i) =>
        receipt({
          userReceiveTime: D0 + d * DAY + (i % 80_000),
          reportStatus: i < delivered ? 'SUCCESS' : 'FAIL',
          phoneNumber: `+86137${String(i % 5000).padStart(6, '0')}`,
        }),
      );
    const records = [...day(0, 3, 19_997), ...day(1, 19_999, 1), ...day(2, 2, 1), ...day(3, 1, 7)];
    const result = await report(lakeOf(records), { beginTime: D0, endTime: D0 + 4 * DAY });
    expect(result.byDay.map((d) => d.deliveryRate)).toEqual([0.0002, 1, 0.6667, 0.125]);
    // What a double would give: 3/20000*10000 is 1.4999999999999998, rounded to 1.
    expect(Math.round((3 / 20_000) * 10_000)).toBe(1);
    expect(result).toEqual(expectedReport(records, { beginTime: D0, endTime: D0 + 4 * DAY }));
  });

  it('ties: countries by code, failures by description, numbers by number — in code point order, capped', async () => {
    const records: ExportRecord[] = [];
    // 10 descriptions failing twice each, behind UNDELIV: 9 are kept, by code point, so '😀' (U+1F600) is
    // the one left out — not 'ｚ' (U+FF5A), as UTF-16 order would have it.
    const descriptions = ['b', 'a', 'é', 'ｚ', '😀', '"q"', 'x,y', "o'k", '失败', '0'];
    descriptions.forEach((description, i) => {
      for (const k of [0, 1])
        records.push(
          receipt({
            userReceiveTime: D0 + i * 10 + k,
            reportStatus: 'FAIL',
            description,
            phoneNumber: `+1415555${String(1000 + i * 2 + k)}`,
          }),
        );
    });
    // 105 numbers failing 3 times each: 100 are kept, by number; one failing 4 times leads; one failing twice is out.
    for (let n = 0; n < 105; n++) {
      for (const k of [0, 1, 2])
        records.push(
          receipt({
            userReceiveTime: D0 + 1000 + n * 10 + k,
            reportStatus: 'FAIL',
            description: 'UNDELIV',
            phoneNumber: `+86150${String(99_000 - n * 7).padStart(6, '0')}`,
          }),
        );
    }
    for (const k of [0, 1, 2, 3])
      records.push(
        receipt({
          userReceiveTime: D0 + 5000 + k,
          reportStatus: 'FAIL',
          description: 'UNDELIV',
          phoneNumber: '+4477009001',
        }),
      );
    for (const k of [0, 1])
      records.push(
        receipt({
          userReceiveTime: D0 + 6000 + k,
          reportStatus: 'FAIL',
          description: 'UNDELIV',
          phoneNumber: '+4477009002',
        }),
      );
    // Two countries with equal receipts: '44' before '852' (by code, not numerically).
    records.push(
      ...['44', '852', '852', '44'].map((countryCode, i) =>
        receipt({ userReceiveTime: D0 + 7000 + i, countryCode, phoneNumber: `+${countryCode}9000000${i}` }),
      ),
    );
    const window = { beginTime: D0, endTime: D0 + DAY };
    const result = await report(lakeOf(records), window);
    expect(result).toEqual(expectedReport(records, window));
    expect(result.repeatFailures).toHaveLength(100);
    expect(result.repeatFailures[0]).toEqual({ phoneNumber: '+4477009001', failures: 4, lastFailureTime: D0 + 5003 });
    expect(result.repeatFailures.some((r) => r.phoneNumber === '+4477009002')).toBe(false);
    expect(result.topFailures[0]).toEqual({ description: 'UNDELIV', count: 315 + 4 + 2 });
    expect(result.topFailures.slice(1).map((f) => f.description)).toEqual([
      '"q"',
      '0',
      'a',
      'b',
      "o'k",
      'x,y',
      'é',
      '失败',
      'ｚ',
    ]);
  });
});

describe('a corrupt day object fails the report, naming the object', () => {
  const good = [
    receipt({ userReceiveTime: D0 + 100 }),
    receipt({ userReceiveTime: D0 + DAY + 100, phoneNumber: '+14155550123' }),
  ];
  const damaged = `${PREFIX}/statuses/dt=2025-06-11/part-99.jsonl.gz`;
  const line = (fields: object): string =>
    JSON.stringify({
      serialNo: 'x',
      phoneNumber: '+1',
      countryCode: '1',
      reportStatus: 'FAIL',
      description: 'd',
      userReceiveTime: D0 + DAY + 5,
      ...fields,
    });
  const cases: Array<[string, Buffer]> = [
    ['not gzip', Buffer.from(`${line({})}\n`)],
    // DuckDB's gzip reader would take this one for a whole object of 400 lines: no CRC or length check.
    [
      'gzip cut short (its trailer gone)',
      gzipSync(`${Array.from({ length: 400 }, () => line({})).join('\n')}\n`).subarray(0, -8),
    ],
    ['a line that is not JSON', gzipSync(`${line({})}\n{"serialNo":"y",\n`)],
    ['a receive time that is not a number', gzipSync(`${line({ userReceiveTime: 'yesterday' })}\n`)],
    ['a line that is JSON but not an object', gzipSync(`${line({})}\n[1,2]\n`)],
    // DuckDB reads these as rows of NULLs, which no window would count.
    ['a null line', gzipSync(`${line({})}\nnull\n`)],
    ['a record without its receive time', gzipSync(`${line({ userReceiveTime: undefined })}\n`)],
  ];
  for (const [what, body] of cases) {
    it(`${what}: CorruptObject naming s3://${BUCKET}/${damaged}, and no temporary file left`, async () => {
      const store = lakeOf(good);
      store.put(BUCKET, damaged, body);
      const error = await report(store, { beginTime: D0, endTime: D0 + 2 * DAY }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'CorruptObject' });
      expect((error as Error).message).toContain(`s3://${BUCKET}/${damaged}`);
      expect(await readdir(spill)).toEqual([]);
    });
  }

  it('a corrupt object on a day outside the window is never read', async () => {
    const store = lakeOf(good);
    store.put(BUCKET, `${PREFIX}/statuses/dt=2025-06-12/part-99.jsonl.gz`, Buffer.from('garbage'));
    const window = { beginTime: D0, endTime: D0 + 2 * DAY };
    expect(await report(store, window)).toEqual(expectedReport(good, window));
  });
});
