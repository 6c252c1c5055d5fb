import { InvalidInput } from '#lib/errors.ts';
import { parseTime } from '#lib/time.ts';
import { utcDay } from '#lib/utc-day.ts';

/** The receipts a report counts: `userReceiveTime` in [beginTime, endTime), unix seconds. */
export interface ReportWindow {
  beginTime: number;
  endTime: number;
}

const DAY = 86_400;
const DEFAULT_REPORT_DAYS = 7;
/**
 * The widest window: the lake's default retention (EXPORT_RETENTION_DAYS). A report lists every day in
 * its window, so a typo reaching back decades is refused instead of listing thousands of empty days.
 */
export const MAX_REPORT_DAYS = 400;

const present = (value: unknown): boolean => value !== undefined && value !== '';

/**
 * `--begin` / `--end` as given (unix seconds or ISO-8601, UTC unless an offset is given), or the
 * defaults: the window ends now and starts DEFAULT_REPORT_DAYS before its end.
 */
export function parseReportWindow(raw: { begin?: unknown; end?: unknown }, nowSeconds: number): ReportWindow {
  const endTime = present(raw.end) ? parseTime(raw.end, 'end', 'InvalidParameterValue.EndTimeVerifyFail') : nowSeconds;
  const beginTime = present(raw.begin)
    ? parseTime(raw.begin, 'begin', 'InvalidParameterValue.BeginTimeVerifyFail')
    : endTime - DEFAULT_REPORT_DAYS * DAY;
  if (endTime <= beginTime) {
    throw new InvalidInput('end must be after begin (the window is [begin, end))', {
      field: 'end',
      code: 'InvalidParameterValue.InvalidStartTime',
    });
  }
  if (endTime - beginTime > MAX_REPORT_DAYS * DAY) {
    throw new InvalidInput(`the window may span at most ${MAX_REPORT_DAYS} days`, {
      field: 'begin',
      code: 'InvalidParameterValue.BeginTimeVerifyFail',
    });
  }
  return { beginTime, endTime };
}

/** The UTC days (YYYY-MM-DD) a receipt of the window can fall on: the `dt` partitions to read. */
export function windowDays({ beginTime, endTime }: ReportWindow): string[] {
  const first = Math.floor(beginTime / DAY);
  const last = Math.floor((endTime - 1) / DAY);
  return Array.from({ length: last - first + 1 }, (_, i) => utcDay((first + i) * DAY));
}
