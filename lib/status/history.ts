import pLimit from 'p-limit';
import { InvalidInput } from '#lib/errors.ts';
import type { TencentClient } from '#lib/tencent/client.ts';
import { retentionEdge } from '#lib/tencent/retention.ts';
import { utcDay } from '#lib/utc-day.ts';
import type { CollectOptions } from './collect.ts';
import type { DayReader, LakeRecord } from './lake.ts';
import { lookup, type LookupResult, type Source } from './lookup.ts';
import type { Query } from './query.ts';
import { byReceiveTime, type StatusRecord } from './record.ts';
import { laterOf } from '#lib/export/versions.ts';

/** Most day objects one lookup reads: a 90-day window needs ~84 past Tencent's 7 days, so 93 leaves room. */
export const MAX_LAKE_DAYS = 93;
/** Day objects read at once. */
export const LAKE_CONCURRENCY = 8;
/** Most lake records one `all=true` lookup returns (a few MB of JSON, under Lambda's 6 MB response). */
export const MAX_LAKE_RECORDS = 20_000;
/**
 * Tencent's part starts this long inside its edge: a request sent later in the lookup (the pacer's
 * queue, a retry, a split window) is then never moved up by the retention clamp. The lake answers it.
 */
export const SEAM_SECONDS = 60;

const DAY_SECONDS = 86400;

export interface Lake {
  days: DayReader;
  /** Only receipts of this SmsSdkAppId (the app Tencent is asked about); lines without one are kept. */
  sdkAppId?: string;
  /** Told of each day object that could not be read whole (corrupt, or the read failed). */
  onDayError?: (day: string, error: unknown) => void;
}

export interface HistoryOptions {
  collect?: CollectOptions;
  /** ms since epoch: Tencent's edge is judged from it. */
  now?: () => number;
}

interface Window {
  beginTime: number;
  endTime: number;
}

interface LakePart {
  records: StatusRecord[];
  complete: boolean;
}

/**
 * A lookup over the whole retention: the part of the window older than Tencent's edge (the one pulls
 * are clamped to, `retentionEdge`) comes from the lake, the rest from Tencent (`lookup`). The lake
 * knows receipts, not absences: its part is complete only when it holds at least one receipt of the
 * number there, and no day object was corrupt or unreadable. Records are merged by serialNo (Tencent's
 * copy wins) and sorted by receive time. Without a lake, or for a window inside Tencent's reach, this
 * is `lookup` as it was.
 */
export async function history(client: TencentClient, lake: Lake | undefined, query: Query, options: HistoryOptions = {}): Promise<LookupResult> {
  const seam = retentionEdge((options.now ?? Date.now)()) + SEAM_SECONDS;
  if (!lake || query.beginTime >= seam) return lookup(client, query, options.collect);
  const older: Window = { beginTime: query.beginTime, endTime: Math.min(query.endTime, seam - 1) };
  const days = daysOf(older);
  const recent = query.endTime >= seam ? { ...query, beginTime: seam } : undefined;
  const [fromLake, fromTencent] = await Promise.all([readLake(lake, query, older, days), recent && lookup(client, recent, options.collect)]);
  return merged(query, { source: 'lake', ...older, complete: fromLake.complete }, fromLake.records, fromTencent);
}

/** The UTC days a window touches, refused past MAX_LAKE_DAYS before anything is read. */
export function daysOf({ beginTime, endTime }: Window): string[] {
  const first = Math.floor(beginTime / DAY_SECONDS);
  const count = Math.floor(endTime / DAY_SECONDS) - first + 1;
  if (count > MAX_LAKE_DAYS) {
    throw new InvalidInput(
      `beginTime reaches ${count} days of the lake (older than Tencent's 7 days); a lookup reads at most ${MAX_LAKE_DAYS}: ask for a later beginTime or a shorter window`,
      { field: 'beginTime', code: 'InvalidParameterValue.BeginTimeVerifyFail' },
    );
  }
  return Array.from({ length: count }, (_, i) => utcDay((first + i) * DAY_SECONDS));
}

interface DayRead {
  records: StatusRecord[];
  /** A receipt of the number inside the window was seen (before the serialNo filter). */
  covered: boolean;
  /** Read to its end: not corrupt, not failed, not cut by the cap. */
  whole: boolean;
  done: boolean;
}

/**
 * The number's records of the window, day objects read LAKE_CONCURRENCY at a time. At most `cap` (the
 * query's limit, or MAX_LAKE_RECORDS with all=true), the earliest days first: a day stops once the days
 * before it already hold the cap, and the part is then incomplete.
 */
async function readLake(lake: Lake, query: Query, window: Window, days: string[]): Promise<LakePart> {
  const cap = query.all ? MAX_LAKE_RECORDS : query.limit;
  const reads: DayRead[] = days.map(() => ({ records: [], covered: false, whole: true, done: false }));
  const heldBefore = (i: number): number => {
    let held = 0;
    for (let j = 0; j < i; j++) if ((reads[j] as DayRead).done) held += (reads[j] as DayRead).records.length;
    return held;
  };
  const limit = pLimit(LAKE_CONCURRENCY);
  await Promise.all(days.map((day, i) => limit(() => readDay(lake, query, window, day, reads[i] as DayRead, () => cap - heldBefore(i)))));
  const records = reads.flatMap((read) => read.records);
  const cut = records.length > cap || reads.some((read) => !read.whole);
  return { records: records.slice(0, cap), complete: !cut && reads.some((read) => read.covered) };
}

async function readDay(lake: Lake, query: Query, window: Window, day: string, read: DayRead, room: () => number): Promise<void> {
  try {
    if (room() <= 0) {
      read.whole = false;
      return;
    }
    for await (const record of lake.days.records(day, query.phoneNumber)) {
      if (!inside(record, window) || (lake.sdkAppId && record.sdkAppId && record.sdkAppId !== lake.sdkAppId)) continue;
      read.covered = true;
      if (query.serialNo !== undefined && record.serialNo !== query.serialNo) continue;
      if (read.records.length >= room()) {
        read.whole = false;
        break;
      }
      read.records.push(statusOf(record));
    }
  } catch (error) {
    read.whole = false;
    lake.onDayError?.(day, error);
  } finally {
    read.done = true;
  }
}

function inside(record: StatusRecord, { beginTime, endTime }: Window): boolean {
  return record.userReceiveTime >= beginTime && record.userReceiveTime <= endTime;
}

function statusOf({ serialNo, phoneNumber, countryCode, subscriberNumber, reportStatus, description, userReceiveTime }: LakeRecord): StatusRecord {
  return { serialNo, phoneNumber, countryCode, subscriberNumber, reportStatus, description, userReceiveTime };
}

/** Both parts as one answer: one version per serialNo by the lake's merge rule, sorted; complete only if every part is. */
function merged(query: Query, lakeSource: Source, lakeRecords: StatusRecord[], tencent: LookupResult | undefined): LookupResult {
  const bySerial = new Map<string, StatusRecord>();
  for (const record of [...lakeRecords, ...(tencent?.statuses ?? [])]) {
    const other = bySerial.get(record.serialNo);
    bySerial.set(record.serialNo, other ? laterOf(other, record) : record);
  }
  const sources = [lakeSource, ...(tencent?.sources ?? [])];
  return {
    phoneNumber: query.phoneNumber,
    beginTime: query.beginTime,
    endTime: query.endTime,
    complete: sources.every((source) => source.complete),
    statuses: [...bySerial.values()].sort(byReceiveTime),
    requestIds: tencent?.requestIds ?? [],
    sources,
  };
}
