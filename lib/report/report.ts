import { countOf, rateOf, textOf, UnexpectedRow, type Row } from './row.ts';
import type { Section } from './sections.ts';
import type { ReportWindow } from './window.ts';

/** `delivered` counts SUCCESS, `failed` FAIL; deliveryRate = delivered ÷ (delivered + failed) to 4 decimals. */
export interface Counts {
  receipts: number;
  delivered: number;
  failed: number;
  deliveryRate: number | null;
}

export interface DayCounts extends Counts {
  day: string;
}

export interface CountryCounts extends Counts {
  countryCode: string | null;
}

export interface TopFailure {
  description: string | null;
  count: number;
}

export interface RepeatFailure {
  phoneNumber: string;
  failures: number;
  lastFailureTime: number;
}

/** The delivery report of PRODUCT.md, keys in its order. */
export interface DeliveryReport extends ReportWindow, Counts {
  byDay: DayCounts[];
  byCountry: CountryCounts[];
  topFailures: TopFailure[];
  repeatFailures: RepeatFailure[];
}

function counts(row: Row, query: string): Counts {
  return {
    receipts: countOf(row, 'receipts', query),
    delivered: countOf(row, 'delivered', query),
    failed: countOf(row, 'failed', query),
    deliveryRate: rateOf(row, 'delivery_rate', query),
  };
}

function day(row: Row): DayCounts {
  const value = textOf(row, 'day', 'byDay');
  if (value === null || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UnexpectedRow('byDay', 'day', value);
  return { day: value, ...counts(row, 'byDay') };
}

function repeatFailure(row: Row): RepeatFailure {
  const phoneNumber = textOf(row, 'phone_number', 'repeatFailures');
  if (phoneNumber === null) throw new UnexpectedRow('repeatFailures', 'phone_number', phoneNumber);
  const failures = countOf(row, 'failures', 'repeatFailures');
  return { phoneNumber, failures, lastFailureTime: countOf(row, 'last_failure_time', 'repeatFailures') };
}

/** The report from each section's rows, as its query orders and caps them. */
export function assembleReport(window: ReportWindow, rows: Readonly<Record<Section, readonly Row[]>>): DeliveryReport {
  const [totals, ...more] = rows.totals;
  if (totals === undefined || more.length > 0) throw new UnexpectedRow('totals', 'rows', rows.totals.length);
  return {
    beginTime: window.beginTime,
    endTime: window.endTime,
    ...counts(totals, 'totals'),
    byDay: rows.byDay.map(day),
    byCountry: rows.byCountry.map((row) => ({
      countryCode: textOf(row, 'country_code', 'byCountry'),
      ...counts(row, 'byCountry'),
    })),
    topFailures: rows.topFailures.map((row) => ({
      description: textOf(row, 'description', 'topFailures'),
      count: countOf(row, 'failures', 'topFailures'),
    })),
    repeatFailures: rows.repeatFailures.map(repeatFailure),
  };
}
