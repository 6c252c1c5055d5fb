/**
 * Paged lookups (nextToken), Tencent down with the lake standing in, and serialNo searches: lookupPage
 * over a memory lake and a Tencent that holds its 7 days.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInput, RateLimited, UpstreamUnavailable } from '#lib/errors.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { BUDGET_EXCEEDED } from '#lib/pace/bucket.ts';
import { lookupPage, type LookupDeps } from '#lib/status/lookup-page.ts';
import type { LookupResult } from '#lib/status/lookup.ts';
import { MAX_BODY_BYTES } from '#lib/status/page.ts';
import { encodeToken, pageTokenKey, TOKEN_TTL_SECONDS } from '#lib/status/page-token.ts';
import type { RawQuery } from '#lib/status/query.ts';
import type { StatusRecord } from '#lib/receipt.ts';
import type { TencentClient } from '#lib/tencent/client.ts';
import { MAX_LOOKBACK_SECONDS } from '#lib/tencent/types.ts';
import { memoryStore } from '../../support/memory-store.ts';
import {
  DAY,
  NOW,
  NOW_MS,
  PHONE,
  SEAM,
  lakeOf,
  receipt,
  statusOf,
  tencent,
  writeLake,
} from '../../support/lookup-world.ts';
import { thrownAs } from '../../support/thrown.ts';

const KEY = pageTokenKey('1400000000', 'lake-bucket', 'sms-status');
const COLLECT = { maxRequests: 1000, concurrency: 4 };

async function world(
  records: ExportRecord[],
  client: TencentClient = tencent(records.filter((r) => r.userReceiveTime >= NOW - MAX_LOOKBACK_SECONDS)),
) {
  const store = memoryStore();
  await writeLake(
    store,
    records.filter((r) => r.userReceiveTime < SEAM),
  );
  return {
    store,
    deps: (maxRecords = 10_000, maxBytes = MAX_BODY_BYTES): LookupDeps => ({
      client,
      lake: { ...lakeOf(store), retentionDays: 400 },
      limits: { maxRecords, maxBytes },
      tokenKey: KEY,
    }),
  };
}

const page = (
  deps: LookupDeps,
  raw: RawQuery,
  run: Partial<Parameters<typeof lookupPage>[2]> = {},
): Promise<LookupResult> =>
  lookupPage(deps, { phoneNumber: PHONE, all: 'true', ...raw }, { collect: COLLECT, nowMs: NOW_MS, ...run });

/** Every page of a lookup, following nextToken, each checked against the limits. */
async function allPages(deps: LookupDeps, raw: RawQuery): Promise<LookupResult[]> {
  const pages: LookupResult[] = [];
  let nextToken: string | undefined;
  do {
    const result = await page(deps, { ...raw, ...(nextToken && { nextToken }) });
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(deps.limits.maxBytes);
    expect(result.statuses.length).toBeLessThanOrEqual(deps.limits.maxRecords);
    if (result.nextToken) expect(result.complete).toBe(false);
    pages.push(result);
    nextToken = result.nextToken;
    expect(pages.length).toBeLessThan(200);
  } while (nextToken);
  return pages;
}

function spread(count: number, from: number, to: number, extra: Partial<ExportRecord> = {}, tag = 'q'): ExportRecord[] {
  return Array.from({ length: count }, (_, i) =>
    receipt(PHONE, `2433:${tag}${String(i).padStart(6, '0')}`, from + Math.floor(((to - from) * i) / count), extra),
  );
}

const expected = (records: ExportRecord[], begin: number, end: number): StatusRecord[] =>
  records.filter((r) => r.userReceiveTime >= begin && r.userReceiveTime <= end).map(statusOf);

describe('lookupPage: nextToken', () => {
  it('pages 15,000 lake receipts of one number: each exactly once, in order, no answer over the limits', async () => {
    const records = spread(15_000, NOW - 30 * DAY, NOW - 8 * DAY);
    const { deps } = await world(records);
    const pages = await allPages(deps(), { beginTime: String(NOW - 30 * DAY), endTime: String(NOW - 8 * DAY) });
    expect(pages.map((p) => p.statuses.length)).toEqual([10_000, 5_000]);
    expect(pages.flatMap((p) => p.statuses)).toEqual(expected(records, NOW - 30 * DAY, NOW - 8 * DAY));
    expect(pages.at(-1)?.complete).toBe(true);
  });

  it('keeps each body under 5 MiB when the receipts are long, before the record count is reached', async () => {
    const records = spread(12_000, NOW - 30 * DAY, NOW - 8 * DAY, { description: 'D'.repeat(512) });
    const { deps } = await world(records);
    const pages = await allPages(deps(), { beginTime: String(NOW - 30 * DAY), endTime: String(NOW - 8 * DAY) });
    expect(pages.length).toBeGreaterThan(1);
    expect(pages[0]?.statuses.length).toBeLessThan(10_000);
    for (const p of pages) expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(pages.flatMap((p) => p.statuses)).toEqual(expected(records, NOW - 30 * DAY, NOW - 8 * DAY));
  });

  it('continues across the lake/Tencent seam with no duplicate and no gap, also when a second holds many', async () => {
    const burst = Array.from({ length: 40 }, (_, i) =>
      receipt(PHONE, `2433:burst${String(i).padStart(3, '0')}`, SEAM - 1),
    );
    const records = [...spread(600, NOW - 12 * DAY, NOW - 60), ...burst];
    const { deps } = await world(records);
    const pages = await allPages(deps(70), { beginTime: String(NOW - 12 * DAY), endTime: String(NOW) });
    const got = pages.flatMap((p) => p.statuses);
    expect(got).toEqual(
      expected(records, NOW - 12 * DAY, NOW).sort(
        (a, b) => a.userReceiveTime - b.userReceiveTime || (a.serialNo < b.serialNo ? -1 : 1),
      ),
    );
    expect(new Set(got.map((s) => s.serialNo)).size).toBe(got.length);
  });

  it('continues a Tencent part that ran out of requests from where its proof stopped', async () => {
    const records = spread(3_000, NOW - 6 * DAY, NOW - 60);
    const client = tencent(records);
    const { deps } = await world(records, client);
    const pages: LookupResult[] = [];
    let nextToken: string | undefined;
    do {
      const result = await page(
        deps(),
        { beginTime: String(NOW - 6 * DAY), ...(nextToken && { nextToken }) },
        { collect: { maxRequests: 8, concurrency: 2 } },
      );
      pages.push(result);
      nextToken = result.nextToken;
    } while (nextToken && pages.length < 100);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flatMap((p) => p.statuses)).toEqual(expected(records, NOW - 6 * DAY, NOW));
  });

  it('takes the window from the token when the request leaves it out (a default endTime would have moved)', async () => {
    const records = spread(300, NOW - 20 * DAY, NOW - 10 * DAY);
    const { deps } = await world(records);
    const first = await page(deps(100), { beginTime: String(NOW - 20 * DAY), endTime: String(NOW - 10 * DAY) });
    const second = await page(deps(100), { nextToken: first.nextToken }, { nowMs: NOW_MS + 60_000 });
    expect(second.statuses[0]?.serialNo).toBe(records[100]?.serialNo);
    expect(second).toMatchObject({ beginTime: NOW - 20 * DAY, endTime: NOW - 10 * DAY });
  });

  it.each<[string, (token: string) => RawQuery]>([
    [
      'a token with one character changed',
      (t) => ({ nextToken: `${t.slice(0, 5)}${t[5] === 'A' ? 'B' : 'A'}${t.slice(6)}` }),
    ],
    [
      'a token signed by another deployment',
      () => ({
        nextToken: encodeToken(
          {
            phoneNumber: PHONE,
            beginTime: NOW - 20 * DAY,
            endTime: NOW - 10 * DAY,
            after: { time: NOW - 15 * DAY, serialNo: 'x' },
            issuedAt: NOW,
          },
          pageTokenKey('other'),
        ),
      }),
    ],
    ['a token of another number', (t) => ({ nextToken: t, phoneNumber: '+8613800138000' })],
    ['a token of another window', (t) => ({ nextToken: t, beginTime: String(NOW - 19 * DAY) })],
    ['a token with all=false', (t) => ({ nextToken: t, all: 'false' })],
    ['garbage', () => ({ nextToken: 'not-a-token' })],
    ['a token as long as a novel', () => ({ nextToken: 'x'.repeat(5000) })],
    ['a token whose payload is not JSON', () => ({ nextToken: 'bm90IGpzb24.abc' })],
  ])('refuses %s with a 400 naming nextToken, before any request', async (_, forge) => {
    const records = spread(300, NOW - 20 * DAY, NOW - 10 * DAY);
    const client = tencent([]);
    const { deps } = await world(records, client);
    const first = await page(deps(100), { beginTime: String(NOW - 20 * DAY), endTime: String(NOW - 10 * DAY) });
    const error = await page(deps(100), {
      beginTime: String(NOW - 20 * DAY),
      endTime: String(NOW - 10 * DAY),
      ...forge(first.nextToken as string),
    }).catch((e: unknown) => e);
    expect(
      thrownAs(InvalidInput, () => {
        throw error;
      }).field,
    ).toBe('nextToken');
    expect(client.calls).toHaveLength(0);
  });

  it('refuses a stale token (older than its hour) naming nextToken', async () => {
    const { deps } = await world(spread(300, NOW - 20 * DAY, NOW - 10 * DAY));
    const first = await page(deps(100), { beginTime: String(NOW - 20 * DAY), endTime: String(NOW - 10 * DAY) });
    const later = NOW_MS + (TOKEN_TTL_SECONDS + 1) * 1000;
    const error = await page(deps(100), { nextToken: first.nextToken }, { nowMs: later }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidInput', field: 'nextToken' });
  });
});

describe('lookupPage: Tencent down, lake up', () => {
  const down = (error: Error): TencentClient => ({ pull: async () => Promise.reject(error) });
  const pushed = [...spread(5, NOW - 3 * DAY, NOW - 3600)];

  async function lakeHolding(records: ExportRecord[], client: TencentClient) {
    const store = memoryStore();
    await writeLake(store, records);
    return {
      client,
      lake: { ...lakeOf(store), retentionDays: 400 },
      limits: { maxRecords: 10_000, maxBytes: MAX_BODY_BYTES },
      tokenKey: KEY,
    } satisfies LookupDeps;
  }

  it('answers the whole window from the lake, incomplete, Tencent’s part carrying its error', async () => {
    const deps = await lakeHolding(
      pushed,
      down(new UpstreamUnavailable('Tencent timed out', { code: 'RequestTimeout', statusCode: 504 })),
    );
    const result = await page(deps, { beginTime: String(NOW - 4 * DAY) }, { degrade: () => true });
    expect(result.statuses).toEqual(pushed.map(statusOf));
    expect(result.complete).toBe(false);
    expect(result.sources).toEqual([
      {
        source: 'tencent',
        beginTime: NOW - 4 * DAY,
        endTime: NOW,
        complete: false,
        error: { code: 'RequestTimeout', message: 'Tencent timed out' },
      },
      { source: 'lake', beginTime: NOW - 4 * DAY, endTime: NOW, complete: true },
    ]);
  });

  it('stands in beside an older lake part, and for Tencent throttling past the retries', async () => {
    const deps = await lakeHolding(
      [...spread(3, NOW - 20 * DAY, NOW - 10 * DAY, {}, 'old'), ...pushed],
      down(new RateLimited('throttled', { code: 'RequestLimitExceeded' })),
    );
    const result = await page(deps, { beginTime: String(NOW - 20 * DAY) }, { degrade: () => true });
    expect(result.sources.map((s) => [s.source, s.error?.code])).toEqual([
      ['lake', undefined],
      ['tencent', 'RequestLimitExceeded'],
      ['lake', undefined],
    ]);
    expect(result.statuses).toHaveLength(8);
  });

  it.each<[string, Error, boolean]>([
    ['without degrade (a direct invocation): throws, so the workflow retries', new UpstreamUnavailable('down'), false],
    [
      'over our own budget (a 429 of ours, not an outage)',
      new RateLimited('over budget', { code: BUDGET_EXCEEDED }),
      true,
    ],
    ['when Tencent refuses our credentials', new InvalidInput('refused', { code: 'AuthFailure' }), true],
  ])('%s', async (_, error, degrade) => {
    const deps = await lakeHolding(pushed, down(error));
    await expect(page(deps, { beginTime: String(NOW - 4 * DAY) }, { degrade: () => degrade })).rejects.toBe(error);
  });

  it('throws when no lake is configured, and when the deadline leaves no time to read it', async () => {
    const error = new UpstreamUnavailable('down');
    const noLake: LookupDeps = { ...(await lakeHolding(pushed, down(error))), lake: undefined };
    await expect(page(noLake, { beginTime: String(NOW - 4 * DAY) }, { degrade: () => true })).rejects.toBe(error);
    await expect(
      page(await lakeHolding(pushed, down(error)), { beginTime: String(NOW - 4 * DAY) }, { degrade: () => false }),
    ).rejects.toBe(error);
  });
});

describe('lookupPage: serialNo', () => {
  it('searches the whole window without all, and stops asking once the receipt is found', async () => {
    const records = spread(450, NOW - 4 * 3600, NOW - 3 * 3600);
    const client = tencent(records);
    const deps = (await world(records, client)).deps();
    const wanted = records[225] as ExportRecord;
    const result = await lookupPage(
      deps,
      { phoneNumber: PHONE, beginTime: String(NOW - 5 * 3600), serialNo: wanted.serialNo },
      { collect: COLLECT, nowMs: NOW_MS },
    );
    expect(result.statuses).toEqual([statusOf(wanted)]);
    expect(result.complete).toBe(true);
    const fullSearch = tencent(records);
    await lookupPage(
      { ...deps, client: fullSearch },
      { phoneNumber: PHONE, beginTime: String(NOW - 5 * 3600), serialNo: '2433:absent' },
      { collect: COLLECT, nowMs: NOW_MS },
    );
    expect(client.calls.length).toBeLessThan(fullSearch.calls.length);
  });
});

describe('lookupPage: a later page minutes after the first', () => {
  it('keeps the token’s window though the 7-day edge moved (no grace, no 400), with a lake or without', async () => {
    const records = spread(600, NOW - 7 * DAY + 700, NOW - 6 * DAY);
    const { deps } = await world(records);
    const begin = String(NOW - 7 * DAY + 650);
    const first = await page(deps(100), { beginTime: begin, endTime: String(NOW - 5 * DAY) });
    const later = await page(deps(100), { nextToken: first.nextToken }, { nowMs: NOW_MS + 20 * 60_000 });
    expect(later.beginTime).toBe(first.beginTime);
    expect(later.statuses[0]?.serialNo).toBe(first.nextToken && expected(records, 0, NOW)[100]?.serialNo);
    const noLake = { ...deps(100), lake: undefined };
    const firstAlone = await page(noLake, { beginTime: begin, endTime: String(NOW - 5 * DAY) });
    const laterAlone = await page(noLake, { nextToken: firstAlone.nextToken }, { nowMs: NOW_MS + 20 * 60_000 });
    expect(laterAlone.statuses.length).toBeGreaterThan(0);
  });
});
