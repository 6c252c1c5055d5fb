import type { DeliveryReport } from '#lib/report/report.ts';

/** The numbers as people read them, shared by the text and HTML reports. */
export const count = (n: number): string => n.toLocaleString('en-US');

/** A rate of 4 decimals as a percentage of 2 (0.9167 → 91.67%); none → '—'. */
export const percent = (rate: number | null): string => (rate === null ? '—' : `${(rate * 100).toFixed(2)}%`);

/** Unix seconds as a UTC date-time: 2026-11-26 08:00:00Z. */
export const utc = (seconds: number): string =>
  new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$/, 'Z');

/** The window as the report's heading gives it. */
export const windowLine = (report: DeliveryReport): string =>
  `${utc(report.beginTime)} to ${utc(report.endTime)} (begin included, end not)`;

/** A text that may be absent or empty (a receipt without a description). */
export const shown = (text: string | null): string => (text === null ? '(none)' : text === '' ? '(empty)' : text);

/** A country code as dialled: +86; a receipt without one as '(none)'. */
export const countryLabel = (code: string | null): string => (code ? `+${code}` : shown(code));
