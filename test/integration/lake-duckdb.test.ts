/**
 * The lake as a query engine sees it: `sms-status export` (the CLI, as a user runs it) writes a handful
 * of numbers to a local S3 from a twin; every object under `<prefix>/statuses/` is downloaded with its
 * key layout, and DuckDB reads it the way Athena reads the Glue table — gzip JSON Lines with Hive-style
 * `dt=` partitions and explicit column types. Counts, per-day breakdowns and one number's history are
 * compared with the twin's ground truth.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { byReceiveTime } from '#lib/receipt.ts';
import { fromTencent } from '#lib/status/from-tencent.ts';
import { localEnv } from '../../local/function-env.ts';
import { readExport, type ExportedObject } from '../../local/read-export.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import { packaged as loadPackage, resourcesOfType } from '../support/package.ts';
import { utcDay } from '#lib/utc-day.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAY = 86_400;
const PREFIX = 'lake';
/** 40 receipts over 7 days. */
const ORDINARY = '+8613711112222';
/** 600 receipts inside one hour: the export must split the window. */
const BUSY = '+8613800138000';
const NUMBERS = [ORDINARY, BUSY, '+14155550123', '+8613512345678', '+8618912345670', '+447700900123'];
/** The record's keys, in the order the writer puts them (see docs/athena.md). */
const KEYS = [
  'serialNo',
  'phoneNumber',
  'countryCode',
  'subscriberNumber',
  'reportStatus',
  'description',
  'userReceiveTime',
  'sdkAppId',
];
const KEY_LAYOUT = /^lake\/statuses\/dt=(\d{4}-\d{2}-\d{2})\/part-(\d{2})\.jsonl\.gz$/;

let twin: Twin;
let s3: LocalS3;
let s3client: S3Client;
let dir: string;
let duckdb: DuckDBInstance;
let db: DuckDBConnection;
let BEGIN: number;
let END: number;
let keys: string[] = [];
let objects: ExportedObject[] = [];
let exportSummary: any;

function truthOf(phoneNumber: string) {
  return twin.truth(phoneNumber, BEGIN, END).map(fromTencent).sort(byReceiveTime);
}

/** Every object under `<prefix>/statuses/`, written below `target` at its own key. */
async function download(target: string): Promise<ExportedObject[]> {
  const downloaded = await readExport(s3client, s3.bucket, PREFIX);
  for (const { key, body } of downloaded) {
    const path = join(target, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }
  return downloaded;
}

async function query(sql: string, values?: string[]): Promise<Record<string, any>[]> {
  const reader = await db.runAndReadAll(sql, values);
  return reader
    .getRowObjectsJS()
    .map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
}

beforeAll(async () => {
  [twin, s3] = await Promise.all([startTwin(), startLocalS3({ bucket: 'lake-duckdb' })]);
  s3client = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1', credentials: s3.credentials });
  END = Math.floor(twin.now() / 1000);
  BEGIN = END - 6 * DAY;

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...localEnv({ twin, s3 }),
    TENCENT_RPS_BUDGET: '20',
    EXPORT_PREFIX: PREFIX,
  };
  const args = [
    'cli/sms-status.js',
    'export',
    '--phone-numbers',
    NUMBERS.join(','),
    '--begin',
    String(BEGIN),
    '--end',
    String(END),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`sms-status export exited ${code}:\n${stderr.slice(-4000)}`);
  exportSummary = JSON.parse(stdout);

  dir = await mkdtemp(join(tmpdir(), 'sms-status-lake-'));
  objects = await download(dir);
  keys = objects.map((o) => o.key);
  duckdb = await DuckDBInstance.create(':memory:');
  db = await duckdb.connect();
  // The lake as one view: explicit types (as the Glue table declares them), dt from the path.
  const glob = join(dir, PREFIX, 'statuses', '**', '*.jsonl.gz').replaceAll("'", "''");
  await db.run(`
    CREATE VIEW statuses AS
    SELECT * FROM read_json('${glob}',
      format = 'newline_delimited',
      hive_partitioning = true,
      hive_types = {'dt': 'VARCHAR'},
      filename = true,
      columns = {
        serialNo: 'VARCHAR', phoneNumber: 'VARCHAR', countryCode: 'VARCHAR', subscriberNumber: 'VARCHAR',
        reportStatus: 'VARCHAR', description: 'VARCHAR', userReceiveTime: 'BIGINT', sdkAppId: 'VARCHAR'
      })`);
}, 150_000);

afterAll(async () => {
  db?.closeSync();
  duckdb?.closeSync();
  s3client?.destroy();
  await Promise.all([twin?.close(), s3?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the exported lake read by DuckDB', () => {
  it('the export run was complete, and every object sits at statuses/dt=YYYY-MM-DD/part-GG.jsonl.gz (GG < 64)', () => {
    expect(exportSummary.complete).toBe(true);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const match = KEY_LAYOUT.exec(key);
      expect(match, key).not.toBeNull();
      expect(Number(match?.[2])).toBeLessThan(64);
    }
  });

  it('holds exactly the receipts of the window, no serialNo twice', async () => {
    const expected = NUMBERS.reduce((sum, n) => sum + truthOf(n).length, 0);
    expect(expected).toBeGreaterThan(600);
    const [row] = await query('SELECT count(*) AS n, count(DISTINCT serialNo) AS distinct_serials FROM statuses');
    expect(row).toEqual({ n: expected, distinct_serials: expected });
  });

  it('counts per dt and reportStatus match the truth, by the UTC date of the receive time', async () => {
    const expected = new Map<string, number>();
    for (const n of NUMBERS) {
      for (const s of truthOf(n)) {
        const key = `${utcDay(s.userReceiveTime)} ${s.reportStatus}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
    }
    const rows = await query(
      'SELECT dt, reportStatus, count(*) AS n FROM statuses GROUP BY dt, reportStatus ORDER BY dt, reportStatus',
    );
    const actual = new Map(rows.map((r) => [`${r.dt} ${r.reportStatus}`, r.n as number]));
    expect(actual).toEqual(expected);
    expect(new Set(rows.map((r) => r.reportStatus))).toEqual(new Set(['SUCCESS', 'FAIL']));
    // The partition is the record's own UTC date, row by row.
    const [misplaced] = await query(
      "SELECT count(*) AS n FROM statuses WHERE dt <> strftime(make_timestamp(userReceiveTime * 1000000), '%Y-%m-%d')",
    );
    expect(misplaced?.n).toBe(0);
  });

  it("one number's full history, ordered by userReceiveTime, equals the truth", async () => {
    const rows = await query(
      `SELECT serialNo, reportStatus, description, userReceiveTime FROM statuses
       WHERE phoneNumber = $1 ORDER BY userReceiveTime, serialNo`,
      [ORDINARY],
    );
    const truth = truthOf(ORDINARY).map(({ serialNo, reportStatus, description, userReceiveTime }) => ({
      serialNo,
      reportStatus,
      description,
      userReceiveTime,
    }));
    expect(truth.length).toBeGreaterThan(10);
    expect(rows).toEqual(truth);
  });

  it('every field is typed and filled as the truth has it; a number lives in one part-GG', async () => {
    const rows = await query('SELECT * EXCLUDE (filename, dt) FROM statuses ORDER BY userReceiveTime, serialNo');
    const truth = NUMBERS.flatMap(truthOf)
      .sort(byReceiveTime)
      .map((s) => ({ ...s, sdkAppId: twin.sdkAppId }));
    expect(rows).toEqual(truth);
    const spread = await query(
      "SELECT phoneNumber, count(DISTINCT regexp_extract(filename, 'part-(\\d+)', 1)) AS parts FROM statuses GROUP BY phoneNumber",
    );
    expect(spread.length).toBeGreaterThan(0);
    for (const row of spread) expect(row.parts, row.phoneNumber).toBe(1);
  });

  it("each line has the keys the Glue table's SerDe maps, in the documented order", async () => {
    // The raw lines, not DuckDB's reading of them: what Athena's OpenX SerDe will see.
    const text = gunzipSync(objects[0]?.body as Buffer).toString('utf8');
    const lines = text.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(Object.keys(JSON.parse(line))).toEqual(KEYS);

    // The table the stack creates (default package of this run): lower-case columns, each camelCase key mapped.
    const template = (await loadPackage(inject('stack').packages.plain)).template;
    const [, table] = resourcesOfType(template, 'AWS::Glue::Table')[0] ?? [];
    const { Columns, SerdeInfo } = table.Properties.TableInput.StorageDescriptor;
    expect(Columns.map((c: { Name: string }) => c.Name)).toEqual(KEYS.map((k) => k.toLowerCase()));
    for (const key of KEYS) {
      const column = key.toLowerCase();
      if (key !== column) expect(SerdeInfo.Parameters[`mapping.${column}`], key).toBe(key);
    }
  });
});
