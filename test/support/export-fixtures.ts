/**
 * The export's unit fixtures (test/unit/export/run.test.ts, lake-adversity.test.ts): Tencent's receipts
 * for a set of numbers (DATA, with the ground truth of any window), the fake Tencent holding them, the
 * export's settings and dependencies, and the lake read back from the memory store.
 */
import { prng } from '../../local/twin/data.ts';
import type { ExportedObject } from '../../local/read-export.ts';
import { runExport } from '#lib/export/run.ts';
import type { ListingStore } from '#lib/lake/store.ts';
import type { ExportDeps, ExportSettings, RunSummary, Window } from '#lib/export/types.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import type { PacedClient } from '#lib/connect.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { remainingTime, type FakeClock } from './fake-clock.ts';
import { REQUEST_MS, fakeTencent, type FakeClient, type FakeClientOptions } from './fake-tencent.ts';
import { asExported, lakeObjects } from './lake.ts';
import type { MemoryStore } from './memory-store.ts';

export const HOUR = 3600;
export const DAY = 24 * HOUR;
/** 2025-06-15T15:06:40Z: a window of two days spans three UTC dates. */
export const NOW = 1_750_000_000;
export const BUCKET = 'exports';
export const PREFIX = 'sms-status';
export const SDK_APP_ID = '1400000000';

export const BUSY = '+8613800138000';
export const OPTED_OUT = '+8613900139000';
/** 120 receipts in one second: more than one page can hold, and no smaller window exists. */
export const SATURATED = '+8613600136000';
export const OTHERS = Array.from({ length: 24 }, (_, i) => `+861370000${String(1000 + i * 37)}`);
export const NUMBERS = [BUSY, '+8613711112222', '+14155550123', ...OTHERS];

export const SCHEDULED_EVENT = {
  version: '0',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  time: '2025-06-15T15:06:40Z',
  detail: {},
};
export const WINDOW: Window = { beginTime: NOW - 2 * DAY + 600, endTime: NOW };
export const EXPLICIT = { beginTime: WINDOW.beginTime, endTime: WINDOW.endTime };

/** `count` receipts of a number between `from` and `to` (unix seconds), one in ten failed; `seed` makes them. */
export function receipts(
  phoneNumber: string,
  count: number,
  from: number,
  to: number,
  seed: number,
): PullSmsSendStatus[] {
  const random = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const failed = random() < 0.1;
    return {
      SerialNo: `2433:${phoneNumber.slice(1)}-${seed}-${i}`,
      PhoneNumber: phoneNumber,
      CountryCode: phoneNumber.startsWith('+1') ? '1' : '86',
      SubscriberNumber: phoneNumber.startsWith('+1') ? phoneNumber.slice(2) : phoneNumber.slice(3),
      ReportStatus: failed ? 'FAIL' : 'SUCCESS',
      Description: failed ? 'UNDELIV' : 'DELIVRD',
      UserReceiveTime: from + Math.floor(random() * (to - from + 1)),
    };
  });
}

/** Tencent's receipts: busy hours across midnight UTC, quiet numbers, some receipts older than any window. */
function dataset(): Map<string, PullSmsSendStatus[]> {
  const data = new Map<string, PullSmsSendStatus[]>();
  data.set(BUSY, [
    ...receipts(BUSY, 350, NOW - 16 * HOUR, NOW - 14 * HOUR, 1),
    ...receipts(BUSY, 5, NOW - 3 * DAY, NOW - 2 * DAY - HOUR, 2),
  ]);
  data.set('+8613711112222', receipts('+8613711112222', 40, NOW - 3 * DAY, NOW - 60, 3));
  data.set('+14155550123', receipts('+14155550123', 12, NOW - DAY, NOW - HOUR, 4));
  OTHERS.forEach((n, i) => data.set(n, receipts(n, (i * 7) % 13, NOW - 2 * DAY, NOW, 10 + i)));
  const at = NOW - 5 * HOUR;
  data.set(SATURATED, receipts(SATURATED, 120, at, at, 5));
  data.set(OPTED_OUT, []);
  return data;
}

/** What Tencent holds, by number (a test may add numbers). */
export const DATA = dataset();

/** Tencent's receipts of a number inside `window`. */
export function truth(phoneNumber: string, window: Window): PullSmsSendStatus[] {
  return (DATA.get(phoneNumber) ?? []).filter(
    (s) => (s.UserReceiveTime as number) >= window.beginTime && (s.UserReceiveTime as number) <= window.endTime,
  );
}

/** What the lake must hold for `numbers` in `window` (see `toHoldExactly`). */
export function truthOf(numbers: string[], window: Window): ExportRecord[] {
  return asExported(
    numbers.flatMap((n) => truth(n, window)),
    SDK_APP_ID,
  );
}

export function totalTruth(numbers: string[], window: Window): number {
  return numbers.reduce((sum, n) => sum + truth(n, window).length, 0);
}

/** Tencent holding DATA (OPTED_OUT refused), behind the real pacing client; `fail` may answer a call with an error instead. */
export function fakeClient(options: Partial<FakeClientOptions> = {}): FakeClient {
  return fakeTencent({ receipts: (n) => DATA.get(n) ?? [], optedOut: (n) => n === OPTED_OUT, ...options });
}

/** One invocation of runExport, its summary only (a run wanting a retry later answers its unfinished summary too). */
export async function exportSummary(...args: Parameters<typeof runExport>): Promise<RunSummary> {
  return (await runExport(...args)).summary;
}

export function settings(overrides: Partial<ExportSettings> = {}): ExportSettings {
  return {
    bucket: BUCKET,
    prefix: PREFIX,
    sdkAppId: SDK_APP_ID,
    window: { latenessSeconds: HOUR, initialLookbackSeconds: 2 * DAY },
    concurrency: 4,
    groupConcurrency: 4,
    chunkSize: 3,
    reserveMs: 1000,
    manifestMaxBytes: 1024 * 1024,
    stuckAfterRuns: 3,
    defaults: { phoneNumbers: NUMBERS },
    ...overrides,
  };
}

export function deps(store: ListingStore, client: PacedClient, overrides: Partial<ExportDeps> = {}): ExportDeps {
  return { client, store, now: () => NOW * 1000, remainingMs: () => 900_000, ...overrides };
}

/**
 * A tiny remaining-time budget: an invocation with time left for `requests` Tencent requests before it
 * reaches `reserveMs` (the settings' reserve), on `clock`, which the fake Tencent moves on by REQUEST_MS
 * a request (`fakeClient({ clock })`). It starts a chunk while it has the time, and stops cleanly once the requests are spent.
 */
export function timeFor(clock: FakeClock, requests: number, reserveMs = settings().reserveMs): () => number {
  return remainingTime(clock, reserveMs + requests * REQUEST_MS - 1);
}

export function stateKey(jobId: string, name: 'checkpoint' | 'run'): string {
  return `${PREFIX}/_state/${jobId}/${name}.json`;
}

/** The lake's objects, read back from the store as `readExport` reads S3. */
export function lake(store: MemoryStore): ExportedObject[] {
  return lakeObjects(store, BUCKET, PREFIX);
}

/** The lake's objects by key, their bytes as stored. */
export function dataObjects(store: MemoryStore): Map<string, Buffer> {
  return new Map(lake(store).map((o) => [o.key, o.body]));
}

/** Every exported line, with the object it is in. */
export function exported(store: MemoryStore): Array<{ key: string; record: ExportRecord }> {
  return lake(store).flatMap(({ key, records }) => records.map((record) => ({ key, record })));
}
