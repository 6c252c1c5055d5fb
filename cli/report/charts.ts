import type { CountryCounts, DayCounts, TopFailure } from '#lib/report/report.ts';
import { count, countryLabel, percent, shown } from './format.ts';
import { clip, escape, px } from './markup.ts';

/** Inline SVG bar charts drawn from the report's numbers: no script, no library, no network. */

const WIDTH = 1000;
const COLORS = {
  delivered: '#2e7d32',
  failed: '#c62828',
  other: '#9e9e9e',
  rate: '#1565c0',
  grid: '#d0d7de',
  text: '#24292f',
};
/** Countries drawn; the table under the chart lists every one. */
export const MAX_COUNTRY_BARS = 15;
/** A horizontal bar's thickness (rows are 28 px apart); text beside it sits on its middle. */
const BAR = 20;
/** Characters of a description the chart shows; the whole of it is in its title and the table. */
const LABEL_CHARS = 36;
/** The least height of a day's rate bar, in px, so that 0 % still shows. */
const MIN_BAR = 3;

const svg = (height: number, label: string, body: string): string =>
  `<svg viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${escape(label)}" font-family="system-ui, sans-serif" font-size="12">${body}</svg>`;
const text = (x: number, y: number, content: string, attrs = ''): string =>
  `<text x="${px(x)}" y="${px(y)}" fill="${COLORS.text}" ${attrs}>${escape(content)}</text>`;
const rect = (x: number, y: number, w: number, h: number, fill: string, title: string): string =>
  `<rect x="${px(x)}" y="${px(y)}" width="${px(Math.max(w, 0))}" height="${px(h)}" fill="${fill}"><title>${escape(title)}</title></rect>`;

/** One day's rate bar, standing on `baseline`, `h` high. */
function rateBar(d: DayCounts, x: number, width: number, baseline: number, h: number): string {
  const title = `${d.day}: ${percent(d.deliveryRate)} delivered (${count(d.receipts)} receipts, ${count(d.failed)} failed)`;
  // No SUCCESS and no FAIL that day: no rate, so no bar, only a mark where it would stand.
  if (d.deliveryRate === null)
    return `<g>${text(x + width / 2, baseline - 4, '–', 'text-anchor="middle" fill-opacity="0.6"')}<title>${escape(title)}</title></g>`;
  // A day where nothing was delivered is the one to see: it keeps a red sliver rather than no bar.
  const drawn = Math.max(h, MIN_BAR);
  return rect(x, baseline - drawn, width, drawn, d.deliveryRate === 0 ? COLORS.failed : COLORS.rate, title);
}

/** Delivery rate of each day, 0–100 %, one bar per day; a day with no SUCCESS or FAIL has none. */
export function rateByDayChart(days: readonly DayCounts[]): string {
  const [left, top, bottom, height] = [48, 22, 50, 300];
  const plot = { width: WIDTH - left - 8, height: height - top - bottom };
  const slot = plot.width / Math.max(days.length, 1);
  const step = Math.ceil(days.length / 16);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((r) => {
    const y = top + plot.height * (1 - r);
    return `<line x1="${left}" x2="${WIDTH - 8}" y1="${px(y)}" y2="${px(y)}" stroke="${COLORS.grid}"/>${text(left - 6, y + 4, `${r * 100}%`, 'text-anchor="end"')}`;
  });
  const bars = days.map((d, i) => {
    const x = left + i * slot + slot * 0.15;
    const h = (d.deliveryRate ?? 0) * plot.height;
    const bar = rateBar(d, x, slot * 0.7, top + plot.height, h);
    const value =
      days.length <= 20
        ? text(
            x + slot * 0.35,
            top + plot.height - h - 5,
            percent(d.deliveryRate),
            'text-anchor="middle" font-size="11"',
          )
        : '';
    const label =
      i % step === 0 ? text(x + slot * 0.35, height - bottom + 16, d.day.slice(5), 'text-anchor="middle"') : '';
    // A rate of 42 receipts weighs less than one of 1,370: the count under each day says so.
    const weight =
      days.length <= 16
        ? text(
            x + slot * 0.35,
            height - bottom + 30,
            `${count(d.receipts)} receipts`,
            'text-anchor="middle" font-size="10" fill-opacity="0.6"',
          )
        : '';
    return bar + value + label + weight;
  });
  return svg(
    height,
    'Delivery rate by day',
    grid.join('') + bars.join('') + text(left, height - 2, 'UTC day (MM-DD)', 'font-size="11"'),
  );
}

/** Receipts of each country as one bar: delivered, failed and neither, side by side. */
export function receiptsByCountryChart(countries: readonly CountryCounts[]): string {
  const shown = countries.slice(0, MAX_COUNTRY_BARS);
  const [label, right, row, top] = [90, 260, 28, 8];
  const most = Math.max(...shown.map((c) => c.receipts), 1);
  const scale = (WIDTH - label - right) / most;
  const bars = shown.map((c, i) => {
    const y = top + i * row;
    const other = c.receipts - c.delivered - c.failed;
    const parts: Array<[number, string, string]> = [
      [c.delivered, COLORS.delivered, 'delivered'],
      [c.failed, COLORS.failed, 'failed'],
      [other, COLORS.other, 'neither SUCCESS nor FAIL'],
    ];
    let x = label;
    const segments = parts.map(([n, fill, what]) => {
      const segment =
        n > 0 ? rect(x, y, n * scale, BAR, fill, `${countryLabel(c.countryCode)}: ${count(n)} ${what}`) : '';
      x += n * scale;
      return segment;
    });
    const name = text(label - 8, y + BAR / 2 + 4, countryLabel(c.countryCode), 'text-anchor="end"');
    return (
      name +
      segments.join('') +
      text(x + 8, y + BAR / 2 + 4, `${count(c.receipts)} receipts · ${percent(c.deliveryRate)} delivered`)
    );
  });
  const legend = legendRow(top + shown.length * row + 14);
  return svg(top + shown.length * row + 26, 'Receipts by country', bars.join('') + legend);
}

function legendRow(y: number): string {
  const items: Array<[string, string]> = [
    ['delivered', COLORS.delivered],
    ['failed', COLORS.failed],
    ['neither', COLORS.other],
  ];
  return items
    .map(
      ([name, fill], i) =>
        `<rect x="${90 + i * 110}" y="${y - 10}" width="12" height="12" fill="${fill}"/>${text(90 + i * 110 + 18, y, name)}`,
    )
    .join('');
}

/** The most frequent descriptions of failed receipts, longest bar first. */
export function topFailuresChart(failures: readonly TopFailure[]): string {
  // As wide as the longest description needs (about 7 px a character at 12 px), at most 36 characters.
  const longest = Math.max(...failures.map((f) => [...clip(shown(f.description), LABEL_CHARS)].length), 4);
  const [label, right, row, top] = [Math.min(16 + longest * 7.2, 280), 90, 28, 8];
  const most = Math.max(...failures.map((f) => f.count), 1);
  const scale = (WIDTH - label - right) / most;
  const bars = failures.map((f, i) => {
    const y = top + i * row;
    const description = shown(f.description);
    return (
      `<g>${text(label - 8, y + BAR / 2 + 4, clip(description, LABEL_CHARS), 'text-anchor="end"')}<title>${escape(description)}</title></g>` +
      rect(label, y, f.count * scale, BAR, COLORS.failed, `${description}: ${count(f.count)} failed receipts`) +
      text(label + f.count * scale + 8, y + BAR / 2 + 4, count(f.count))
    );
  });
  return svg(top + failures.length * row + 4, 'Top failures', bars.join(''));
}
