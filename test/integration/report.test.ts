/**
 * `sms-status report` over a lake the real export wrote from the twin (test/support/report-lake.ts):
 * the JSON equals the report worked out by hand from the twin's own records (totals, every row of
 * byDay and byCountry, topFailures, repeatFailures) for windows whose edges fall inside days; the named
 * queries' SQL, as the packaged stack holds it, gives the same numbers through DuckDB; and every
 * failure is one line naming what to fix.
 */
import { gzipSync } from 'node:zlib';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { deliveryReport } from '#lib/report/build.ts';
import type { DeliveryReport } from '#lib/report/report.ts';
import { SECTIONS, type Section } from '#lib/report/sections.ts';
import type { ReportWindow } from '#lib/report/window.ts';
import { duckDbEngine } from '../../cli/report/duckdb-engine.ts';
import { cliEnv, runCli, type CliRun } from '../support/cli.ts';
import { closedPort } from '../support/net.ts';
import { packaged } from '../support/package.ts';
import { expectedReport } from '../support/report-truth.ts';
import { exportedLake, type ExportedLake } from '../support/report-lake.ts';

const HOUR = 3600;
const DAY = 86_400;
const QUERY_RESOURCES: Record<Section, string> = {
  totals: 'ReportTotalsQuery',
  byDay: 'ReportByDayQuery',
  byCountry: 'ReportByCountryQuery',
  topFailures: 'ReportTopFailuresQuery',
  repeatFailures: 'ReportRepeatFailuresQuery',
};

let lake: ExportedLake;
let windows: Array<ReportWindow & { what: string }>;

beforeAll(async () => {
  lake = await exportedLake('report');
  const { beginTime: b, endTime: e } = lake;
  windows = [
    { what: 'the whole export but its last second', beginTime: b, endTime: e },
    {
      what: 'edges inside days (5 h 17 min in, 3 h before the end)',
      beginTime: b + 5 * HOUR + 17 * 60 + 13,
      endTime: e - 3 * HOUR,
    },
    { what: 'a day and a half in the middle', beginTime: b + 2 * DAY + 7 * HOUR, endTime: b + 3 * DAY + 19 * HOUR },
  ];
}, 180_000);

afterAll(() => lake?.close());

const json = (run: CliRun): DeliveryReport => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as DeliveryReport;
};

const report = (window: ReportWindow, ...more: string[]): Promise<CliRun> =>
  runCli(['report', '--begin', String(window.beginTime), '--end', String(window.endTime), ...more], lake.env);

describe('the report of an exported lake equals the truth worked out from the twin', () => {
  it('the lake is worth a report: several countries and days, real failure codes, numbers failing repeatedly', () => {
    const truth = expectedReport(lake.records, windows[0] as ReportWindow);
    expect(truth.byCountry.map((c) => c.countryCode).sort()).toEqual(['1', '44', '65', '81', '852', '86', '886']);
    expect(truth.byDay.length).toBeGreaterThanOrEqual(6);
    expect(truth.topFailures.map((f) => f.description)).toEqual(
      expect.arrayContaining(['UNDELIV', 'EXPIRED', 'REJECTD', 'MK:0005', 'DB:0141']),
    );
    expect(truth.repeatFailures.map((r) => r.phoneNumber)).toEqual(
      expect.arrayContaining(['+6591234567', '+8615000150000']),
    );
  });

  it.each([0, 1, 2])('window %#: JSON on stdout, every section exactly', async (i) => {
    const window = windows[i] as ReportWindow & { what: string };
    const truth = expectedReport(lake.records, window);
    expect(truth.receipts, window.what).toBeGreaterThan(100);
    expect(json(await report(window, '--format', 'json'))).toEqual(truth);
  });

  it('the window as ISO-8601 (with an offset) is the same window; json is the default format', async () => {
    const window = windows[1] as ReportWindow;
    const iso = (t: number) => new Date((t + 8 * HOUR) * 1000).toISOString().replace('Z', '+08:00');
    expect(
      json(await runCli(['report', '--begin', iso(window.beginTime), '--end', iso(window.endTime)], lake.env)),
    ).toEqual(expectedReport(lake.records, window));
  });

  it("each named query's SQL, as the packaged stack holds it, gives the same numbers through DuckDB", async () => {
    const template = (await packaged(inject('stack').packages.plain)).template;
    const queries = Object.fromEntries(
      SECTIONS.map((s) => [s, template.Resources[QUERY_RESOURCES[s]].Properties.QueryString as string]),
    ) as Record<Section, string>;
    const client = new S3Client({
      ...s3ClientConfig({ local: true }),
      endpoint: lake.s3.url,
      region: 'us-east-1',
      credentials: lake.s3.credentials,
    });
    try {
      const deps = {
        store: s3Store({ local: true }, client),
        bucket: lake.s3.bucket,
        prefix: lake.prefix,
        engine: duckDbEngine(),
        queries,
      };
      for (const window of windows)
        expect(await deliveryReport(deps, window)).toEqual(expectedReport(lake.records, window));
    } finally {
      client.destroy();
    }
  });

  it('text: the totals and every section for a terminal; --out writes the same to a file, stdout empty', async () => {
    const window = windows[1] as ReportWindow;
    const truth = expectedReport(lake.records, window);
    const text = await report(window, '--format', 'text');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `${truth.receipts.toLocaleString('en-US')} receipts: ${truth.delivered.toLocaleString('en-US')} delivered`,
    );
    for (const d of truth.byDay) expect(text.stdout).toContain(d.day);
    for (const r of truth.repeatFailures) expect(text.stdout).toContain(r.phoneNumber);
    const dir = await mkdtemp(join(tmpdir(), 'report-out-'));
    try {
      const out = await report(window, '--format', 'text', '--out', join(dir, 'report.txt'));
      expect(out).toMatchObject({ code: 0, stdout: '' });
      expect(await readFile(join(dir, 'report.txt'), 'utf8')).toBe(text.stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a bad value or a broken lake: one line naming what to fix, never a stack trace', () => {
  const oneLine = (run: CliRun, code: number, ...needles: string[]): void => {
    expect(run.code, run.stderr).toBe(code);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    for (const needle of needles) expect(run.stderr).toContain(needle);
  };
  const base = () =>
    Object.fromEntries(Object.entries(lake.env).filter((e): e is [string, string] => typeof e[1] === 'string'));

  it('EXPORT_BUCKET unset, or not a bucket name; AWS_ENDPOINT_URL_S3 not a URL; EXPORT_PREFIX with a leading /', async () => {
    const { EXPORT_BUCKET: _, ...unset } = base();
    oneLine(await runCli(['report'], cliEnv(unset)), 2, 'EXPORT_BUCKET');
    oneLine(await runCli(['report'], cliEnv({ ...base(), EXPORT_BUCKET: 'Not_A_Bucket' })), 2, 'EXPORT_BUCKET');
    oneLine(
      await runCli(['report'], cliEnv({ ...base(), AWS_ENDPOINT_URL_S3: 'localhost:4569' })),
      2,
      'AWS_ENDPOINT_URL_S3',
    );
    oneLine(await runCli(['report'], cliEnv({ ...base(), EXPORT_PREFIX: '/sms' })), 2, 'EXPORT_PREFIX');
  });

  it('options: a format, a time, a window that is no window, an argument', async () => {
    oneLine(await runCli(['report', '--format', 'pdf'], lake.env), 1, '"field":"format"');
    oneLine(await runCli(['report', '--begin', 'last tuesday'], lake.env), 1, '"field":"begin"');
    oneLine(await runCli(['report', '--begin', '1750000000', '--end', '1750000000'], lake.env), 1, '"field":"end"');
    oneLine(await runCli(['report', '--begin', '2024-01-01', '--end', '2026-01-01'], lake.env), 1, '400 days');
    oneLine(await runCli(['report', 'yesterday'], lake.env), 1, 'no arguments');
  });

  it('S3 not listening at AWS_ENDPOINT_URL_S3; a bucket that does not exist', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    oneLine(
      await runCli(['report'], cliEnv({ ...base(), AWS_ENDPOINT_URL_S3: endpoint })),
      2,
      `cannot reach S3 at ${endpoint} (AWS_ENDPOINT_URL_S3)`,
    );
    oneLine(
      await runCli(['report'], cliEnv({ ...base(), EXPORT_BUCKET: 'no-such-bucket' })),
      2,
      "bucket 'no-such-bucket' does not exist",
      'EXPORT_BUCKET',
    );
  });

  it('a corrupt day object: no report, the object named', async () => {
    // A day of its own, long before the exported days, so the lake of the other tests stays whole.
    const day = '2025-03-04';
    const key = `${lake.prefix}/statuses/dt=${day}/part-17.jsonl.gz`;
    const client = new S3Client({
      ...s3ClientConfig({ local: true }),
      endpoint: lake.s3.url,
      region: 'us-east-1',
      credentials: lake.s3.credentials,
    });
    await client.send(
      new PutObjectCommand({
        Bucket: lake.s3.bucket,
        Key: key,
        Body: gzipSync('{"serialNo":"2433:x","userReceiveTime":1741050000,\n'),
      }),
    );
    client.destroy();
    oneLine(
      await runCli(['report', '--begin', `${day}T00:00:00Z`, '--end', '2025-03-05'], lake.env),
      2,
      `s3://${lake.s3.bucket}/${key} is corrupt`,
      'no report made',
    );
  });

  it('an --out that cannot be written', async () => {
    oneLine(
      await runCli(['report', '--out', '/nonexistent-dir/report.json'], lake.env),
      2,
      'cannot write --out /nonexistent-dir/report.json: ENOENT',
    );
  });
});
