/**
 * A world for lookup tests: a pinned clock, numbers of one group and another, receipts written to a
 * memory lake as the export writes them, and a Tencent that holds its 7 days and answers in order.
 */
import { InvalidInput } from '#lib/errors.ts';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import type { ObjectStore } from '#lib/lake/store.ts';
import { mergeInto } from '#lib/lake/merge.ts';
import { SEAM_SECONDS } from '#lib/status/history.ts';
import type { Lake } from '#lib/status/lake-part.ts';
import { lakeDays } from '#lib/lake/day-reader.ts';
import { parseQuery, type Query, type RawQuery } from '#lib/status/query.ts';
import { byReceiveTime, type StatusRecord } from '#lib/receipt.ts';
import type { PullPage, PullRequest, TencentClient } from '#lib/tencent/client.ts';
import { retentionEdge } from '#lib/tencent/retention.ts';
import { MAX_LOOKBACK_SECONDS } from '#lib/tencent/types.ts';
import { utcDay } from '#lib/utc-day.ts';

/** 2025-06-15T10:30:00Z, pinned: the edge, the days and the windows are the same on every run. */
export const NOW_MS = Date.UTC(2025, 5, 15, 10, 30);
export const NOW = NOW_MS / 1000;
export const DAY = 86400;
export const SEAM = retentionEdge(NOW_MS) + SEAM_SECONDS;
export const BUCKET = 'lake-bucket';
export const PREFIX = 'sms-status';
export const APP = '1400000000';
export const PHONE = '+8613711112222';
/** Another number of PHONE's group (its lines share PHONE's day objects), and one of another group. */
export const NEIGHBOUR = numberOfGroup(groupOf(PHONE), PHONE);
export const STRANGER = numberOfGroup((groupOf(PHONE) + 1) % 64, PHONE);

export function numberOfGroup(group: number, not: string): string {
  for (let i = 0; ; i++) {
    const candidate = `+86139${String(i).padStart(8, '0')}`;
    if (candidate !== not && groupOf(candidate) === group) return candidate;
  }
}

export function receipt(
  phoneNumber: string,
  serialNo: string,
  userReceiveTime: number,
  extra: Partial<ExportRecord> = {},
): ExportRecord {
  return {
    serialNo,
    phoneNumber,
    countryCode: '86',
    subscriberNumber: phoneNumber.slice(3),
    reportStatus: userReceiveTime % 5 === 0 ? 'FAIL' : 'SUCCESS',
    description: userReceiveTime % 5 === 0 ? 'UNDELIV' : 'DELIVRD',
    userReceiveTime,
    sdkAppId: APP,
    ...extra,
  };
}

export function statusOf({ sdkAppId: _app, ...record }: ExportRecord): StatusRecord {
  return record;
}

/** Receipts written as the export writes them: merged into their day-and-group objects. */
export async function writeLake(store: ObjectStore, records: ExportRecord[]): Promise<void> {
  const byKey = new Map<string, ExportRecord[]>();
  for (const record of records) {
    const key = objectKey(PREFIX, utcDay(record.userReceiveTime), groupOf(record.phoneNumber));
    byKey.set(key, [...(byKey.get(key) ?? []), record]);
  }
  for (const [key, list] of byKey) await mergeInto(store, BUCKET, key, list);
}

export interface FakeTencent extends TencentClient {
  calls: PullRequest[];
}

/** Tencent holding `records` for its 7 days: it refuses a BeginTime past them, as the real one does. */
export function tencent(records: ExportRecord[]): FakeTencent {
  const fake: FakeTencent = {
    calls: [],
    async pull(request: PullRequest): Promise<PullPage> {
      fake.calls.push(request);
      if (request.beginTime < NOW - MAX_LOOKBACK_SECONDS) {
        throw new InvalidInput('BeginTime is older than 7 days', { code: 'InvalidParameterValue.BeginTimeVerifyFail' });
      }
      const statuses = records
        .filter(
          (r) =>
            r.phoneNumber === request.phoneNumber &&
            r.userReceiveTime >= request.beginTime &&
            r.userReceiveTime <= request.endTime,
        )
        .sort(byReceiveTime)
        .slice(0, request.limit)
        .map((r) => ({
          SerialNo: r.serialNo,
          PhoneNumber: r.phoneNumber,
          CountryCode: r.countryCode,
          SubscriberNumber: r.subscriberNumber,
          ReportStatus: r.reportStatus,
          Description: r.description,
          UserReceiveTime: r.userReceiveTime,
        }));
      return { statuses, requestId: `req-${fake.calls.length}` };
    },
  };
  return fake;
}

export function query(fields: Omit<RawQuery, 'phoneNumber'> & { phoneNumber?: string }): Query {
  return parseQuery({ phoneNumber: PHONE, all: true, ...fields } as RawQuery, NOW, { lakeRetentionDays: 400 });
}

export function lakeOf(store: ObjectStore, extra: Partial<Lake> = {}): Lake {
  return { days: lakeDays(store, BUCKET, PREFIX), sdkAppId: APP, ...extra };
}

export const options = { now: () => NOW_MS };

/** What the answer must hold: the number's receipts inside the window, unique, sorted. */
export function truth(records: ExportRecord[], q: Query): StatusRecord[] {
  return [...new Map(records.filter((r) => r.phoneNumber === q.phoneNumber).map((r) => [r.serialNo, r])).values()]
    .filter(
      (r) =>
        r.userReceiveTime >= q.beginTime &&
        r.userReceiveTime <= q.endTime &&
        (q.serialNo === undefined || r.serialNo === q.serialNo),
    )
    .map(statusOf)
    .sort(byReceiveTime);
}
