/**
 * The delivery report worked out by hand from receipts, for tests to hold the engine's against: plain
 * loops over the records, exact integer rounding, and strings ordered by code point (as Trino and
 * DuckDB compare them; JavaScript's sort compares UTF-16 units, which differs past U+FFFF).
 */
import { gzipSync } from 'node:zlib';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { toLine } from '#lib/lake/line.ts';
import type { CountryCounts, DayCounts, DeliveryReport, RepeatFailure, TopFailure } from '#lib/report/report.ts';
import type { ReportWindow } from '#lib/report/window.ts';
import { utcDay } from '#lib/utc-day.ts';

export const byCodePoint = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** delivered ÷ (delivered + failed), half up at the fourth decimal, by integer division. */
export function exactRate(delivered: number, failed: number): number | null {
  const total = BigInt(delivered + failed);
  if (total === 0n) return null;
  const scaled = BigInt(delivered) * 10_000n;
  const quotient = scaled / total;
  const up = 2n * (scaled % total) >= total ? 1n : 0n;
  return Number(quotient + up) / 10_000;
}

function counts(records: ExportRecord[]) {
  const delivered = records.filter((r) => r.reportStatus === 'SUCCESS').length;
  const failed = records.filter((r) => r.reportStatus === 'FAIL').length;
  return { receipts: records.length, delivered, failed, deliveryRate: exactRate(delivered, failed) };
}

function groups<K>(records: ExportRecord[], key: (r: ExportRecord) => K): Map<K, ExportRecord[]> {
  const map = new Map<K, ExportRecord[]>();
  for (const r of records) {
    const list = map.get(key(r));
    if (list) list.push(r);
    else map.set(key(r), [r]);
  }
  return map;
}

export function expectedReport(records: ExportRecord[], window: ReportWindow): DeliveryReport {
  const inside = records.filter((r) => r.userReceiveTime >= window.beginTime && r.userReceiveTime < window.endTime);
  const failures = inside.filter((r) => r.reportStatus === 'FAIL');
  const byDay: DayCounts[] = [...groups(inside, (r) => utcDay(r.userReceiveTime))]
    .map(([day, rs]) => ({ day, ...counts(rs) }))
    .sort((a, b) => byCodePoint(a.day, b.day));
  const byCountry: CountryCounts[] = [...groups(inside, (r) => r.countryCode)]
    .map(([countryCode, rs]) => ({ countryCode, ...counts(rs) }))
    .sort((a, b) => b.receipts - a.receipts || byCodePoint(a.countryCode ?? '', b.countryCode ?? ''));
  const topFailures: TopFailure[] = [...groups(failures, (r) => r.description)]
    .map(([description, rs]) => ({ description, count: rs.length }))
    .sort((a, b) => b.count - a.count || byCodePoint(a.description ?? '', b.description ?? ''))
    .slice(0, 10);
  const repeatFailures: RepeatFailure[] = [...groups(failures, (r) => r.phoneNumber)]
    .filter(([, rs]) => rs.length >= 3)
    .map(([phoneNumber, rs]) => ({
      phoneNumber,
      failures: rs.length,
      lastFailureTime: Math.max(...rs.map((r) => r.userReceiveTime)),
    }))
    .sort((a, b) => b.failures - a.failures || byCodePoint(a.phoneNumber, b.phoneNumber))
    .slice(0, 100);
  return {
    beginTime: window.beginTime,
    endTime: window.endTime,
    ...counts(inside),
    byDay,
    byCountry,
    topFailures,
    repeatFailures,
  };
}

/** Writes records into day objects as the export lays them out (key by UTC day and group), whole. */
export function lakeObjectsOf(prefix: string, records: ExportRecord[]): Map<string, Buffer> {
  const lines = new Map<string, string[]>();
  for (const r of records) {
    const key = objectKey(prefix, utcDay(r.userReceiveTime), groupOf(r.phoneNumber));
    const list = lines.get(key);
    if (list) list.push(toLine(r));
    else lines.set(key, [toLine(r)]);
  }
  return new Map([...lines].map(([key, ls]) => [key, gzipSync(`${ls.join('\n')}\n`)]));
}
