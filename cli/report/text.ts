import type { DeliveryReport } from '#lib/report/report.ts';
import { count, countryLabel, percent, shown, utc, windowLine } from './format.ts';

type Cell = string;
type Align = 'left' | 'right';

/** Control characters (a description's line break) would break the table: shown as escapes instead. */
const printable = (text: string): string =>
  text.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Columns padded to their widest cell (by code points), numbers to the right. */
function table(headers: Cell[], rows: Cell[][], align: Align[]): string {
  const cells = [headers, ...rows].map((row) => row.map(printable));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => [...(row[i] ?? '')].length)));
  const line = (row: Cell[]): string =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - [...cell].length);
        return align[i] === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(cells[0] ?? []), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

function section(title: string, body: string, empty: boolean): string {
  return `${title}\n${empty ? '  (none)' : body}\n`;
}

const COUNTS: Cell[] = ['receipts', 'delivered', 'failed', 'rate'];
const RIGHT4: Align[] = ['right', 'right', 'right', 'right'];
const counts = (c: { receipts: number; delivered: number; failed: number; deliveryRate: number | null }): Cell[] => [
  count(c.receipts),
  count(c.delivered),
  count(c.failed),
  percent(c.deliveryRate),
];

/** The report for a terminal: a heading with the totals, then one table per section. */
export function textReport(report: DeliveryReport): string {
  const days = table(
    ['day (UTC)', ...COUNTS],
    report.byDay.map((d) => [d.day, ...counts(d)]),
    ['left', ...RIGHT4],
  );
  const countries = table(
    ['country', ...COUNTS],
    report.byCountry.map((c) => [countryLabel(c.countryCode), ...counts(c)]),
    ['left', ...RIGHT4],
  );
  const failures = table(
    ['failures', 'description'],
    report.topFailures.map((f) => [count(f.count), shown(f.description)]),
    ['right', 'left'],
  );
  const repeat = table(
    ['number', 'failures', 'last failure (UTC)'],
    report.repeatFailures.map((r) => [r.phoneNumber, count(r.failures), utc(r.lastFailureTime)]),
    ['left', 'right', 'left'],
  );
  return [
    `Delivery report, ${windowLine(report)}`,
    `${count(report.receipts)} receipts: ${count(report.delivered)} delivered, ${count(report.failed)} failed, delivery rate ${percent(report.deliveryRate)}\n`,
    section('By day', days, report.byDay.length === 0),
    section('By country', countries, report.byCountry.length === 0),
    section('Top failures (descriptions of failed receipts)', failures, report.topFailures.length === 0),
    section('Numbers failing repeatedly (3 or more failures)', repeat, report.repeatFailures.length === 0),
  ].join('\n');
}
