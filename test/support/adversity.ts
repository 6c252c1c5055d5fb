/**
 * The world of the export's adversity tests: numbers (of one group, of many), their receipts at Tencent
 * (a fake holding a map), the export's settings, invocation until commit, and what the lake must hold.
 */
import { expect } from 'vitest';
import { prng } from '../../local/twin/data.ts';
import { fnv1a, groupOf, objectKey } from '#lib/lake/layout.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { ledgerKey } from '#lib/lake/layout.ts';
import type { Ledger } from '#lib/lake/ledger.ts';
import { runExport } from '#lib/export/run.ts';
import type { ExportSettings, OwedWindow, RunSummary, Window } from '#lib/export/types.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { utcDay } from '#lib/utc-day.ts';
import { BUCKET, DAY, HOUR, PREFIX, SDK_APP_ID, lake as lakeOf } from './export-fixtures.ts';
import { fakeTencent, type FakeClientOptions } from './fake-tencent.ts';
import { asExported } from './lake.ts';
import type { MemoryStore } from './memory-store.ts';

export function receipts(phoneNumber: string, count: number, from: number, to: number): PullSmsSendStatus[] {
  const random = prng(fnv1a(`${phoneNumber}/${from}`));
  return Array.from({ length: count }, (_, i) => ({
    SerialNo: `2433:${phoneNumber.slice(1)}-${from}-${i}`,
    PhoneNumber: phoneNumber,
    CountryCode: '86',
    SubscriberNumber: phoneNumber.slice(3),
    ReportStatus: random() < 0.1 ? 'FAIL' : 'SUCCESS',
    Description: 'DELIVRD',
    UserReceiveTime: from + Math.floor(random() * (to - from + 1)),
  }));
}

export function numbersOf(count: number, seed: number): string[] {
  return Array.from({ length: count }, (_, i) => `+86137${String(10_000_000 + (seed + i) * 104_729).slice(-8)}`);
}

/** Numbers that share one group (so one object per day takes all their receipts). */
export function sameGroup(count: number): string[] {
  const group = groupOf(numbersOf(1, 1)[0] as string);
  return numbersOf(20_000, 1)
    .filter((n) => groupOf(n) === group)
    .slice(0, count);
}

export function settings(overrides: Partial<ExportSettings> = {}): ExportSettings {
  return {
    bucket: BUCKET,
    prefix: PREFIX,
    sdkAppId: SDK_APP_ID,
    window: { latenessSeconds: HOUR, initialLookbackSeconds: DAY, reconcileSeconds: 72 * HOUR },
    concurrency: 4,
    groupConcurrency: 2,
    chunkSize: 3,
    reserveMs: 1000,
    manifestMaxBytes: 4 * 1024 * 1024,
    stuckAfterRuns: 3,
    defaults: {},
    ...overrides,
  };
}

/** Invokes until the run commits (resuming after time runs out or a retry-later), as the platform would. */
export async function runToCommit(...args: Parameters<typeof runExport>): Promise<RunSummary> {
  for (let i = 0; i < 100; i++) {
    const { summary, retryLater } = await runExport(...args);
    if (!retryLater && summary.finished) return summary;
  }
  throw new Error('the run never committed');
}

/** Every record in the lake, each checked to lie in the object of its own UTC day and group. */
export function exported(store: MemoryStore): ExportRecord[] {
  return lakeOf(store).flatMap(({ key, records }) => {
    for (const r of records) expect(key).toBe(objectKey(PREFIX, utcDay(r.userReceiveTime), groupOf(r.phoneNumber)));
    return records;
  });
}

/** Exactly these receipts in the lake (for the numbers given), each once. */
export function expectHolds(store: MemoryStore, numbers: string[], want: PullSmsSendStatus[]): void {
  const wanted = new Set(numbers);
  expect(lakeOf(store)).toHoldExactly(asExported(want, SDK_APP_ID), {
    prefix: PREFIX,
    ordered: false,
    ignore: (r) => !wanted.has(r.phoneNumber),
  });
}

export function inWindow(list: PullSmsSendStatus[], { beginTime, endTime }: Window): PullSmsSendStatus[] {
  return list.filter((s) => (s.UserReceiveTime as number) >= beginTime && (s.UserReceiveTime as number) <= endTime);
}

export function pendingOf(store: MemoryStore, jobId: string): OwedWindow[] {
  return store
    .keys(BUCKET, `${PREFIX}/_state/${jobId}/pending/`)
    .flatMap((k) => store.json<OwedWindow[]>(BUCKET, k) ?? []);
}

export function tencent(data: Map<string, PullSmsSendStatus[]>, options: Partial<FakeClientOptions> = {}) {
  return fakeTencent({ receipts: (n) => data.get(n) ?? [], ...options });
}

/** The lake's ledger of rebuilt day objects and jobs (lib/export/rebuilds.ts). */
export function ledgerOf(store: MemoryStore): Ledger {
  return store.json<Ledger>(BUCKET, ledgerKey(PREFIX)) ?? { jobs: {}, rebuilds: [] };
}
