import pLimit from 'p-limit';
import { InvalidInput } from '#lib/errors.ts';
import { utcDay } from '#lib/utc-day.ts';
import { isAfter, type Cursor } from './cursor.ts';
import type { DayReader, LakeRecord } from '#lib/lake/day-reader.ts';
import type { Query } from './query.ts';
import type { StatusRecord } from '#lib/receipt.ts';

/** Most day objects one lookup reads: a 90-day window needs ~84 past Tencent's 7 days, so 93 leaves room. */
export const MAX_LAKE_DAYS = 93;
/** Day objects read at once. */
export const LAKE_CONCURRENCY = 8;

const DAY_SECONDS = 86400;

export interface Lake {
  days: DayReader;
  /** Only receipts of this SmsSdkAppId (the app Tencent is asked about); lines without one are kept. */
  sdkAppId?: string;
  /** Told of each day object that could not be read whole (corrupt, or the read failed). */
  onDayError?: (day: string, error: unknown) => void;
}

export interface Window {
  beginTime: number;
  endTime: number;
}

export interface LakePart {
  /** The earliest records of the window (after the cursor), at most the cap, sorted as stored. */
  records: StatusRecord[];
  /** Held a receipt of the number, and every day object was read whole. */
  complete: boolean;
  /** More records lay past the cap: the part ends with the last record kept. */
  cut: boolean;
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
  /** Could not be read to its end: corrupt, or the read failed. */
  failed: boolean;
  /** Stopped at the cap: more records of the number lie past it. */
  capped: boolean;
  done: boolean;
}

/** What one read of the lake asks for: the window (and its days, daysOf), the records after `after`, at most `cap`. */
export interface LakeAsk {
  window: Window;
  days: string[];
  cap: number;
  after?: Cursor;
}

/**
 * The number's records of the window, day objects read LAKE_CONCURRENCY at a time. At most `cap`, the
 * earliest days first: a day stops once the days before it already hold the cap, and the part is then
 * cut. The lake knows receipts, not absences: the part is complete only when it holds at least one
 * receipt of the number there, was not cut, and no day object was corrupt or unreadable.
 */
export async function readLake(lake: Lake, query: Query, ask: LakeAsk): Promise<LakePart> {
  const { days } = ask;
  const reads: DayRead[] = days.map(() => ({ records: [], covered: false, failed: false, capped: false, done: false }));
  const heldBefore = (i: number): number => {
    let held = 0;
    for (let j = 0; j < i; j++) if ((reads[j] as DayRead).done) held += (reads[j] as DayRead).records.length;
    return held;
  };
  const limit = pLimit(LAKE_CONCURRENCY);
  await Promise.all(
    days.map((day, i) =>
      limit(() => readDay(lake, query, ask, day, reads[i] as DayRead, () => ask.cap - heldBefore(i))),
    ),
  );
  const records = reads.flatMap((read) => read.records);
  const cut = records.length > ask.cap || reads.some((read) => read.capped);
  const complete = !cut && !reads.some((read) => read.failed) && reads.some((read) => read.covered);
  return { records: records.slice(0, ask.cap), complete, cut };
}

async function readDay(
  lake: Lake,
  query: Query,
  ask: LakeAsk,
  day: string,
  read: DayRead,
  room: () => number,
): Promise<void> {
  try {
    if (room() <= 0) {
      read.capped = true;
      return;
    }
    for await (const record of lake.days.records(day, query.phoneNumber)) {
      if (!inside(record, ask.window) || (lake.sdkAppId && record.sdkAppId && record.sdkAppId !== lake.sdkAppId))
        continue;
      read.covered = true;
      if (query.serialNo !== undefined && record.serialNo !== query.serialNo) continue;
      if (ask.after && !isAfter(record, ask.after)) continue;
      if (read.records.length >= room()) {
        read.capped = true;
        break;
      }
      read.records.push(statusOf(record));
    }
  } catch (error) {
    read.failed = true;
    lake.onDayError?.(day, error);
  } finally {
    read.done = true;
  }
}

function inside(record: StatusRecord, { beginTime, endTime }: Window): boolean {
  return record.userReceiveTime >= beginTime && record.userReceiveTime <= endTime;
}

function statusOf({
  serialNo,
  phoneNumber,
  countryCode,
  subscriberNumber,
  reportStatus,
  description,
  userReceiveTime,
}: LakeRecord): StatusRecord {
  return { serialNo, phoneNumber, countryCode, subscriberNumber, reportStatus, description, userReceiveTime };
}
