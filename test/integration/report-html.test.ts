/**
 * The HTML report as a person sees it: `sms-status report --format html --out FILE` over a lake the
 * export wrote from the twin, opened in headless Chromium (Debian's, driven by puppeteer-core). The
 * totals, tables and charts the browser renders hold the numbers of the JSON report; the page asks
 * for nothing over the network and runs no script; hostile descriptions stay text.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryReport } from '#lib/report/report.ts';
import { count, percent } from '../../cli/report/format.ts';
import { htmlReport } from '../../cli/report/html.ts';
import { launchChromium } from '../support/chromium.ts';
import { runCli } from '../support/cli.ts';
import { exportedLake, type ExportedLake } from '../support/report-lake.ts';

/** An element as rendered: its text as a person sees it (the tests type-check without the DOM library). */
interface Rendered {
  innerText: string;
}

let lake: ExportedLake;
let browser: Browser;
let dir: string;
let report: DeliveryReport;
let page: Page;
const requests: string[] = [];
const problems: string[] = [];

async function open(file: string): Promise<Page> {
  const opened = await browser.newPage();
  await opened.setViewport({ width: 1200, height: 1600 });
  opened.on('request', (request) => void requests.push(request.url()));
  opened.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
  opened.on('pageerror', (error) => void problems.push(String(error)));
  await opened.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return opened;
}

beforeAll(async () => {
  [lake, browser] = await Promise.all([exportedLake('report-html'), launchChromium()]);
  dir = await mkdtemp(join(tmpdir(), 'report-html-'));
  const window = ['--begin', String(lake.beginTime + 4 * 3600 + 7), '--end', String(lake.endTime - 3600)];
  const [html, json] = await Promise.all([
    runCli(['report', ...window, '--format', 'html', '--out', join(dir, 'report.html')], lake.env),
    runCli(['report', ...window, '--format', 'json'], lake.env),
  ]);
  expect(html.code, html.stderr).toBe(0);
  expect(json.code, json.stderr).toBe(0);
  report = JSON.parse(json.stdout) as DeliveryReport;
  page = await open(join(dir, 'report.html'));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await lake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The rendered text of each row of a section's table. */
const rows = (id: string): Promise<string[][]> =>
  page.$$eval(`#${id} tbody tr`, (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as unknown as Rendered).innerText)),
  );

describe('the page Chromium renders holds the numbers of the JSON report', () => {
  it('the report is worth looking at: several days, countries and failure codes, numbers failing repeatedly', () => {
    expect(report.byDay.length).toBeGreaterThanOrEqual(5);
    expect(report.byCountry.length).toBeGreaterThanOrEqual(5);
    expect(report.topFailures.length).toBeGreaterThanOrEqual(5);
    expect(report.repeatFailures.length).toBeGreaterThanOrEqual(2);
  });

  it('the totals, as rendered and as data', async () => {
    const cards = await page.$$eval('[data-field]', (els) =>
      els.map((el) => [
        el.getAttribute('data-field'),
        (el as unknown as Rendered).innerText,
        el.getAttribute('data-value'),
      ]),
    );
    expect(cards).toEqual([
      ['receipts', count(report.receipts), String(report.receipts)],
      ['delivered', count(report.delivered), String(report.delivered)],
      ['failed', count(report.failed), String(report.failed)],
      ['deliveryRate', percent(report.deliveryRate), String(report.deliveryRate)],
    ]);
  });

  it('every row of every table', async () => {
    const counts = (c: { receipts: number; delivered: number; failed: number; deliveryRate: number | null }) => [
      count(c.receipts),
      count(c.delivered),
      count(c.failed),
      percent(c.deliveryRate),
    ];
    expect(await rows('by-day')).toEqual(report.byDay.map((d) => [d.day, ...counts(d)]));
    expect(await rows('by-country')).toEqual(report.byCountry.map((c) => [`+${c.countryCode}`, ...counts(c)]));
    expect(await rows('top-failures')).toEqual(report.topFailures.map((f) => [f.description, count(f.count)]));
    const utc = (t: number) => new Date(t * 1000).toISOString().replace('T', ' ').replace('.000Z', 'Z');
    expect(await rows('repeat-failures')).toEqual(
      report.repeatFailures.map((r) => [r.phoneNumber, count(r.failures), utc(r.lastFailureTime)]),
    );
  });

  it('three charts drawn at full width: a rate bar per day, a bar per country, a bar per top failure', async () => {
    const charts = await page.$$eval('svg', (svgs) =>
      svgs.map((svg) => ({
        label: svg.getAttribute('aria-label'),
        width: svg.getBoundingClientRect().width,
        height: svg.getBoundingClientRect().height,
      })),
    );
    expect(charts.map((c) => c.label)).toEqual(['Delivery rate by day', 'Receipts by country', 'Top failures']);
    for (const chart of charts) expect(chart.width, chart.label as string).toBeGreaterThan(900);
    const bars = (id: string) =>
      page.$$eval(`#${id} svg rect title`, (titles) => titles.map((t) => t.textContent ?? ''));
    expect((await bars('by-day')).length).toBe(report.byDay.filter((d) => d.deliveryRate !== null).length);
    expect(await bars('by-day')).toEqual(
      report.byDay.map((d) => expect.stringContaining(`${d.day}: ${percent(d.deliveryRate)} delivered`)),
    );
    expect((await bars('top-failures')).map((t) => t.split(':').slice(0, -1).join(':'))).toEqual(
      report.topFailures.map((f) => f.description),
    );
    const heights = await page.$$eval('#by-day svg rect', (rects) =>
      rects.map((r) => r.getBoundingClientRect().height),
    );
    for (const h of heights) expect(h).toBeGreaterThan(0);
  });

  it('the JSON report rides along unchanged; nothing was fetched, nothing ran, nothing complained', async () => {
    const embedded = await page.$eval('#report-data', (el) => el.textContent ?? '');
    expect(JSON.parse(embedded)).toEqual(report);
    expect(requests).toEqual([page.url()]);
    expect(problems).toEqual([]);
  });
});

describe('hostile descriptions stay text', () => {
  it('quotes, a closing </script>, markup and Unicode in a description are shown as given, and run nothing', async () => {
    const hostile = [
      '</script><img src=x onerror="document.title=1">',
      '"quoted", it\'s <b>bold</b> & more',
      'Ünïcödé — 失败 😀',
      'line\nbreak',
    ];
    const crafted: DeliveryReport = {
      ...report,
      topFailures: hostile.map((description, i) => ({ description, count: 10 - i })),
    };
    const file = join(dir, 'hostile.html');
    await writeFile(file, htmlReport(crafted));
    const hostilePage = await open(file);
    expect(await hostilePage.$$('img')).toHaveLength(0);
    expect(await hostilePage.$$('b')).toHaveLength(0);
    expect(await hostilePage.$$('script')).toHaveLength(1);
    expect(await hostilePage.title()).toMatch(/^Delivery report/);
    const cells = await hostilePage.$$eval('#top-failures tbody tr td:first-child', (tds) =>
      tds.map((td) => td.textContent),
    );
    expect(cells).toEqual(hostile);
    expect(JSON.parse(await hostilePage.$eval('#report-data', (el) => el.textContent ?? ''))).toEqual(crafted);
    expect(await readFile(file, 'utf8')).not.toContain('</script><img');
    await hostilePage.close();
  });
});
