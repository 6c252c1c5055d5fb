import type { Counts, DeliveryReport } from '#lib/report/report.ts';
import { MAX_COUNTRY_BARS, rateByDayChart, receiptsByCountryChart, topFailuresChart } from './charts.ts';
import { count, countryLabel, percent, shown, utc, windowLine } from './format.ts';
import { escape } from './markup.ts';

/** No request leaves the page: no script runs, nothing loads; only its own inline styles apply. */
const POLICY = "default-src 'none'; style-src 'unsafe-inline'";

const STYLE = `
  body { font: 14px/1.45 system-ui, sans-serif; color: #24292f; margin: 0; background: #f6f8fa; }
  main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 40px; }
  h1 { font-size: 24px; margin: 0 0 4px; }
  h2 { font-size: 17px; margin: 0 0 12px; }
  .window { color: #57606a; margin: 0 0 20px; }
  .cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-bottom: 20px; }
  .card, section { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; }
  .card { padding: 12px 16px; }
  .card .label { color: #57606a; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
  section { padding: 16px 20px; margin-bottom: 16px; }
  table { border-collapse: collapse; margin-top: 12px; font-variant-numeric: tabular-nums; }
  th, td { padding: 4px 10px 4px 28px; border-bottom: 1px solid #eaeef2; text-align: right; }
  th:first-child, td:first-child { padding-left: 10px; }
  th:first-child, td:first-child, td.text { text-align: left; }
  th { color: #57606a; font-weight: 600; }
  .none, .note { color: #57606a; }
  footer { color: #57606a; font-size: 12px; }`;

const cell = (value: string, text = false): string => `<td${text ? ' class="text"' : ''}>${escape(value)}</td>`;
const counts = (c: Counts): string =>
  [count(c.receipts), count(c.delivered), count(c.failed), percent(c.deliveryRate)].map((v) => cell(v)).join('');
const COUNT_HEADS = '<th>receipts</th><th>delivered</th><th>failed</th><th>delivery rate</th>';

function table(heads: string, rows: string[]): string {
  return `<table><thead><tr>${heads}</tr></thead><tbody>${rows.map((r) => `<tr>${r}</tr>`).join('')}</tbody></table>`;
}

function section(id: string, title: string, empty: boolean, body: () => string): string {
  return `<section id="${id}"><h2>${escape(title)}</h2>${empty ? '<p class="none">Nothing in this window.</p>' : body()}</section>`;
}

function cards(report: DeliveryReport): string {
  const card = (field: string, label: string, value: string, raw: number | null): string =>
    `<div class="card"><div class="label">${label}</div><div class="value" data-field="${field}" data-value="${raw ?? ''}">${escape(value)}</div></div>`;
  return `<div class="cards">${[
    card('receipts', 'Receipts', count(report.receipts), report.receipts),
    card('delivered', 'Delivered', count(report.delivered), report.delivered),
    card('failed', 'Failed', count(report.failed), report.failed),
    card('deliveryRate', 'Delivery rate', percent(report.deliveryRate), report.deliveryRate),
  ].join('')}</div>`;
}

function sections(report: DeliveryReport): string[] {
  const more = report.byCountry.length - MAX_COUNTRY_BARS;
  return [
    section(
      'by-day',
      'Delivery rate by day (UTC)',
      report.byDay.length === 0,
      () =>
        rateByDayChart(report.byDay) +
        table(
          `<th>day</th>${COUNT_HEADS}`,
          report.byDay.map((d) => cell(d.day) + counts(d)),
        ),
    ),
    section(
      'by-country',
      'Receipts by country',
      report.byCountry.length === 0,
      () =>
        receiptsByCountryChart(report.byCountry) +
        (more > 0
          ? `<p class="note">The chart shows the first ${MAX_COUNTRY_BARS}; the table lists all ${report.byCountry.length}.</p>`
          : '') +
        table(
          `<th>country</th>${COUNT_HEADS}`,
          report.byCountry.map((c) => cell(countryLabel(c.countryCode)) + counts(c)),
        ),
    ),
    section(
      'top-failures',
      'Top failures: descriptions of failed receipts',
      report.topFailures.length === 0,
      () =>
        topFailuresChart(report.topFailures) +
        table(
          '<th>description</th><th>failures</th>',
          report.topFailures.map((f) => cell(shown(f.description), true) + cell(count(f.count))),
        ),
    ),
    section(
      'repeat-failures',
      'Numbers failing repeatedly (3 or more failures)',
      report.repeatFailures.length === 0,
      () =>
        table(
          '<th>number</th><th>failures</th><th>last failure (UTC)</th>',
          report.repeatFailures.map(
            (r) => cell(r.phoneNumber) + cell(count(r.failures)) + cell(utc(r.lastFailureTime)),
          ),
        ),
    ),
  ];
}

/** The report as one self-contained page; the JSON report rides along, inert, for tools to read. */
export function htmlReport(report: DeliveryReport): string {
  const data = JSON.stringify(report).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Delivery report ${escape(utc(report.beginTime))} to ${escape(utc(report.endTime))}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Delivery report</h1>
<p class="window">${escape(windowLine(report))}</p>
${cards(report)}
${sections(report).join('\n')}
<footer>Made by <code>sms-status report</code> with the SQL of the Athena named queries; <code>--format json</code> gives the same numbers.</footer>
</main>
<script type="application/json" id="report-data">${data}</script>
</body>
</html>
`;
}
