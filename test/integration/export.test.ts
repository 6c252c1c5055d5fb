/**
 * The export with real parts: the paced Tencent client against this file's own twin (so injected
 * faults reach nobody else), the S3 adapter against this file's own s3rver, and the CLI as a child
 * process. Every exported object is read back and compared with the twin's ground truth.
 */
import { localEnv } from '../../local/function-env.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExportConfig, type Env, type TencentConfig } from '#lib/config.ts';
import { exportSettings } from '#lib/export/from-config.ts';
import { groupOf } from '#lib/lake/layout.ts';
import { requestOf, type ExportRequest } from '#lib/export/request.ts';
import { runExport } from '#lib/export/run.ts';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import type { Checkpoint } from '#lib/export/job-store.ts';
import type { ExportDeps, OwedWindow, RunSummary, Window } from '#lib/export/types.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { EXPORT_RETRY } from '#lib/pace/retry.ts';
import { connect } from '#lib/connect.ts';
import { listKeys as listS3Keys, readExport, readObject, type ExportedObject } from '../../local/read-export.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3.ts';
import { DEMO_NUMBERS } from '../../local/twin/data.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import { asExported } from '../support/lake.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAY = 86_400;
const BUSY = '+8613800138000';
const OPTED_OUT = '+8613900139000';
/** 150 receipts in one second: Tencent's 100-record page cannot hold them and no smaller window exists. */
const SATURATED = '+8613600136000';
const OTHERS = Array.from({ length: 30 }, (_, i) => `+86135${String(20_000_000 + i * 104_729).slice(-8)}`);
const NUMBERS = [...Object.keys(DEMO_NUMBERS), ...OTHERS];
/** Every number whose receipts the export can get in full. */
const EXACT_NUMBERS = NUMBERS.filter((n) => n !== SATURATED);
const KEY = /^(.+)\/statuses\/dt=(\d{4}-\d{2}-\d{2})\/part-(\d{2})\.jsonl\.gz$/;

let twin: Twin;
let s3: LocalS3;
let s3client: S3Client;
let tencent: TencentConfig;
let BEGIN: number;
let END: number;
let WINDOW: Window;

beforeAll(async () => {
  [twin, s3] = await Promise.all([startTwin({ latencyMs: [5, 40] }), startLocalS3({ bucket: 'export-test' })]);
  s3client = new S3Client({
    ...s3ClientConfig({ local: true }),
    endpoint: s3.url,
    region: 'us-east-1',
    credentials: s3.credentials,
  });
  tencent = {
    endpoint: twin.url,
    region: 'ap-guangzhou',
    sdkAppId: twin.sdkAppId,
    credentials: { secretId: twin.credentials.secretId, secretKey: twin.credentials.secretKey },
    timeoutMs: 5000,
    rpsBudget: 20,
  };
  END = Math.floor(twin.now() / 1000);
  BEGIN = END - 6 * DAY;
  WINDOW = { beginTime: BEGIN, endTime: END };
});

afterAll(async () => {
  s3client?.destroy();
  await Promise.all([twin?.close(), s3?.close()]);
});

/** The export's settings as the Lambda and the CLI build them: from environment variables. */
function settingsFor(prefix: string, env: Env = {}) {
  const config = loadExportConfig({
    EXPORT_BUCKET: s3.bucket,
    EXPORT_PREFIX: prefix,
    AWS_ENDPOINT_URL_S3: s3.url,
    ...env,
  });
  expect(config.localS3).toBe(true);
  return exportSettings(config, tencent);
}

/** One invocation of runExport, its summary only. */
async function exportSummary(...args: Parameters<typeof runExport>): Promise<RunSummary> {
  return (await runExport(...args)).summary;
}

function deps(overrides: Partial<ExportDeps> = {}, config: Partial<TencentConfig> = {}): ExportDeps {
  return {
    client: connect({ ...tencent, ...config }, { retry: EXPORT_RETRY, clampToRetention: true }),
    store: s3Store({ local: true }, s3client),
    now: Date.now,
    remainingMs: () => 900_000,
    ...overrides,
  };
}

/**
 * Time left for an invocation that may start `chunks` chunks: it counts the export's calls (the first
 * sets the client's deadline, then one before each chunk): the real Tencent client here moves no fake clock.
 */
function remainingTimeFor(chunks: number): () => number {
  let calls = 0;
  return () => (calls++ <= chunks ? 600_000 : 100);
}

function listKeys(prefix: string): Promise<string[]> {
  return listS3Keys(s3client, s3.bucket, prefix);
}

async function getJson<T>(key: string): Promise<T> {
  return JSON.parse((await readObject(s3client, s3.bucket, key)).toString('utf8')) as T;
}

function truthOf(phoneNumber: string, window: Window): ExportRecord[] {
  return asExported(twin.truth(phoneNumber, window.beginTime, window.endTime), twin.sdkAppId);
}

/**
 * The objects under `prefix` hold exactly the twin's receipts of `numbers` in `window` (`toHoldExactly`:
 * none missing, none twice, none of another number, each line in the partition of its own UTC date and
 * the hash group of its number, each object sorted), each object ends its last line, each line has the
 * writer's keys in order. Numbers in `partial` (a saturated second) must hold a duplicate-free subset instead.
 */
async function expectExact(
  prefix: string,
  numbers: string[],
  window: Window,
  partial: string[] = [],
): Promise<ExportedObject[]> {
  const objects = await readExport(s3client, s3.bucket, prefix);
  expect(objects.length).toBeGreaterThan(0);
  const exact = numbers.filter((n) => !partial.includes(n));
  expect(objects).toHoldExactly(
    exact.flatMap((n) => truthOf(n, window)),
    { prefix, ignore: (r) => partial.includes(r.phoneNumber) },
  );
  for (const { key, body, records } of objects) {
    expect(gunzipSync(body).toString('utf8').split('\n').at(-1), `${key} ends with a newline`).toBe('');
    for (const record of records) {
      expect(Object.keys(record)).toEqual([
        'serialNo',
        'phoneNumber',
        'countryCode',
        'subscriberNumber',
        'reportStatus',
        'description',
        'userReceiveTime',
        'sdkAppId',
      ]);
    }
  }
  for (const number of partial) {
    const got = objects.flatMap((o) => o.records).filter((r) => r.phoneNumber === number);
    const want = truthOf(number, window);
    const known = new Map(want.map((r) => [r.serialNo, r]));
    expect(got.length, number).toBeGreaterThanOrEqual(Math.min(100, want.length));
    for (const record of got) expect(record, number).toEqual(known.get(record.serialNo));
  }
  return objects;
}

function truthCount(numbers: string[], window: Window): number {
  return numbers.reduce((sum, n) => sum + twin.truth(n, window.beginTime, window.endTime).length, 0);
}

const rejectedOptOut = {
  phoneNumber: OPTED_OUT,
  kind: 'rejected',
  code: 'FailedOperation.PhoneNumberInBlacklist',
  requestId: expect.any(String),
};

describe('export to S3 against the twin', () => {
  let main: RunSummary;
  let mainObjects: ExportedObject[];

  it('exports exactly the twin’s receipts of six days (600 in one hour included), each under its own UTC date and group', async () => {
    expect(twin.truth(BUSY, BEGIN, END)).toHaveLength(600);
    twin.resetStats();
    const request: ExportRequest = { phoneNumbers: NUMBERS, beginTime: BEGIN, endTime: END };
    main = await exportSummary(deps(), settingsFor('main'), request);
    mainObjects = await expectExact('main', NUMBERS, WINDOW, [SATURATED]);

    const lines = mainObjects.flatMap((o) => o.records);
    expect(lines.filter((r) => r.phoneNumber === BUSY)).toHaveLength(600);
    expect(new Set(mainObjects.map((o) => KEY.exec(o.key)?.[2])).size).toBeGreaterThanOrEqual(6);
    // The saturated second cannot be proven complete: the run is over, but owes that second.
    expect(main).toMatchObject({
      finished: true,
      complete: false,
      pendingWindows: 1,
      checkpointAdvanced: false,
      window: WINDOW,
      numbersTotal: NUMBERS.length,
      numbersDone: NUMBERS.length,
      records: lines.length,
      incompleteNumbers: [SATURATED],
      failures: [rejectedOptOut],
      invocations: 1,
      manifestProblems: [],
      manifestProblemCount: 0,
      duplicateNumbers: 0,
    });
    expect(Object.values(main.recordsByStatus).reduce((a, b) => a + b, 0)).toBe(main.records);
    expect(main.records).toBeGreaterThanOrEqual(truthCount(EXACT_NUMBERS, WINDOW) + 100);
    const stats = twin.stats();
    expect(stats.maxPerSecond).toBeLessThanOrEqual(20);
    expect(main.requests).toBeGreaterThanOrEqual(stats.accepted);

    // The run leaves its summary under _runs/ and under _state/ only the window it owes (an explicit
    // window moves no checkpoint).
    const part = `part-${String(groupOf(SATURATED)).padStart(2, '0')}`;
    expect(await listKeys('main/_state/')).toEqual([`main/_state/${main.jobId}/pending/${part}.json`]);
    const owed = await getJson<OwedWindow[]>(`main/_state/${main.jobId}/pending/${part}.json`);
    expect(owed).toEqual([expect.objectContaining({ phoneNumber: SATURATED, reason: 'Incomplete', runs: 1 })]);
    expect(owed[0]?.endTime).toBe(owed[0]?.beginTime);
    const runs = await listKeys('main/_runs/');
    expect(runs).toEqual([`main/_runs/dt=${main.startedAt.slice(0, 10)}/${main.runId}.json`]);
    expect(await getJson<RunSummary>(runs[0] as string)).toEqual(main);
  });

  it('running the same window again leaves the same records and the same bytes, still without duplicates', async () => {
    expect(mainObjects, 'needs the first export').toBeDefined();
    const again = await exportSummary(deps(), settingsFor('main'), {
      phoneNumbers: NUMBERS,
      beginTime: BEGIN,
      endTime: END,
    });
    expect(again).toMatchObject({ finished: true, incompleteNumbers: [SATURATED], pendingWindows: 1 });
    expect(again.runId).not.toBe(main.runId);
    const objects = await expectExact('main', NUMBERS, WINDOW, [SATURATED]);
    expect(objects.map((o) => o.key)).toEqual(mainObjects.map((o) => o.key));
    const before = new Map(mainObjects.map((o) => [o.key, o]));
    for (const object of objects) {
      const old = before.get(object.key) as ExportedObject;
      if (old.records.some((r) => r.phoneNumber === SATURATED)) {
        // Each pull of the saturated second sees another 100 of its 150: the union may grow, never repeat.
        const others = (o: ExportedObject) => o.records.filter((r) => r.phoneNumber !== SATURATED);
        expect(others(object)).toEqual(others(old));
      } else {
        expect(object.body.equals(old.body), object.key).toBe(true);
      }
    }
  });

  it('a tiny remaining-time budget stops after a chunk and saves progress; repeated invocations end exact', async () => {
    const settings = settingsFor('budget', { EXPORT_CHUNK_SIZE: '5', EXPORT_RESERVE_MS: '1000' });
    const request: ExportRequest = { phoneNumbers: EXACT_NUMBERS, beginTime: BEGIN, endTime: END };
    const first = await exportSummary(deps({ remainingMs: remainingTimeFor(1) }), settings, request);
    expect(first.complete).toBe(false);
    expect(first.numbersDone).toBeGreaterThan(0);
    expect(first.numbersDone).toBeLessThan(EXACT_NUMBERS.length);
    const state = await listKeys('budget/_state/');
    expect(state).toContain(`budget/_state/${first.jobId}/run.json`);
    expect(
      state.filter((k) => k.includes(`/runs/${first.runId}/work/`)).length,
      'the frozen work of every group',
    ).toBeGreaterThan(0);

    const summaries = [first];
    while (!summaries.at(-1)?.complete) {
      expect(summaries.length, 'invocations').toBeLessThan(30);
      summaries.push(await exportSummary(deps({ remainingMs: remainingTimeFor(3) }), settings, request));
    }
    const last = summaries.at(-1) as RunSummary;
    expect(new Set(summaries.map((s) => s.runId)).size).toBe(1);
    expect(last).toMatchObject({
      complete: true,
      window: WINDOW,
      invocations: summaries.length,
      numbersTotal: EXACT_NUMBERS.length,
      numbersDone: EXACT_NUMBERS.length,
      records: truthCount(EXACT_NUMBERS, WINDOW),
      failures: [rejectedOptOut],
    });
    expect(await listKeys('budget/_state/')).toEqual([]);
    const objects = await expectExact('budget', EXACT_NUMBERS, WINDOW);
    // The same receipts laid out in the same bytes as one uninterrupted run (groups without the saturated number).
    const uninterrupted = new Map(mainObjects.map((o) => [o.key.replace(/^main\//, ''), o.body]));
    for (const object of objects) {
      if (Number(KEY.exec(object.key)?.[3]) === groupOf(SATURATED)) continue;
      expect(object.body.equals(uninterrupted.get(object.key.replace(/^budget\//, '')) as Buffer), object.key).toBe(
        true,
      );
    }
  });

  it('an export process killed part-way, then run again, ends exact without duplicates', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...localEnv({ twin, s3 }),
      TENCENT_RPS_BUDGET: '20',
      EXPORT_PREFIX: 'cli',
      EXPORT_CHUNK_SIZE: '5',
    };
    const args = [
      'cli/sms-status.js',
      'export',
      '--phone-numbers',
      EXACT_NUMBERS.join(','),
      '--begin',
      String(BEGIN),
      '--end',
      String(END),
    ];

    const killed = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const closed = once(killed, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    const progressLine = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no progress line within 20 s:\n${stderr}`)), 20_000);
      killed.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        const line = /export: (\d+)\/(\d+) numbers[^\n]*\n/.exec(stderr);
        if (line) {
          clearTimeout(timer);
          killed.kill('SIGKILL');
          resolve(line[0]);
        }
      });
      killed.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the export exited (${code}) before any progress line:\n${stderr}`));
      });
    });
    const line = await progressLine;
    const [, signal] = await closed;
    expect(signal).toBe('SIGKILL');
    expect(line).toMatch(new RegExp(`/${EXACT_NUMBERS.length} numbers`));
    const progress = (await listKeys('cli/_state/')).filter((k) => k.endsWith('/run.json'));
    expect(progress, 'the killed run left its progress').toHaveLength(1);
    expect((await listKeys('cli/statuses/')).length, 'and some objects').toBeGreaterThan(0);

    const rerun = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr2 = '';
    rerun.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    rerun.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr2 += chunk));
    const timer = setTimeout(() => rerun.kill('SIGKILL'), 40_000);
    const [code] = (await once(rerun, 'close')) as [number | null];
    clearTimeout(timer);
    expect(code, stderr2).toBe(0);
    const summary = JSON.parse(stdout) as RunSummary;
    expect(summary).toMatchObject({
      complete: true,
      window: WINDOW,
      invocations: 2,
      numbersTotal: EXACT_NUMBERS.length,
      numbersDone: EXACT_NUMBERS.length,
      failures: [rejectedOptOut],
    });
    expect(stderr2).toMatch(new RegExp(`export: ${EXACT_NUMBERS.length}/${EXACT_NUMBERS.length} numbers`));
    await expectExact('cli', EXACT_NUMBERS, WINDOW);
    expect(await listKeys('cli/_state/')).toEqual([]);
  });

  it('reads numbers from S3 manifests (one per line, or CSV); a malformed line is reported, not fatal', async () => {
    const [a, b, c] = OTHERS;
    const text = ['# export list', BUSY, '', '+8613711112222', `  ${a}  `, BUSY, `${b}`].join('\r\n');
    const csv = [
      '\uFEFFid,phoneNumber,name',
      `1,"${c}","Doe, Jane"`,
      '2,13711112222,"no plus"',
      `3,+14155550123,x`,
      `# 4,${a}`,
      `5,"${OPTED_OUT}",y`,
    ].join('\n');
    await s3client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'manifests/numbers.txt', Body: text }));
    await s3client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'manifests/numbers.csv', Body: csv }));

    const listed = await exportSummary(deps(), settingsFor('manifest-lines'), {
      manifest: `s3://${s3.bucket}/manifests/numbers.txt`,
      beginTime: BEGIN,
      endTime: END,
    });
    const fromLines = [BUSY, '+8613711112222', a as string, b as string];
    expect(listed).toMatchObject({
      complete: true,
      numbersTotal: 4,
      numbersDone: 4,
      manifestProblems: [],
      duplicateNumbers: 1,
    });
    await expectExact('manifest-lines', fromLines, WINDOW);

    const fromCsv = await exportSummary(deps(), settingsFor('manifest-csv'), {
      manifest: `s3://${s3.bucket}/manifests/numbers.csv`,
      phoneNumbers: ['+8615000150000'],
      beginTime: BEGIN,
      endTime: END,
    });
    expect(fromCsv).toMatchObject({
      complete: true,
      numbersTotal: 4,
      numbersDone: 4,
      manifestProblems: [{ line: 3, reason: expect.stringMatching(/E\.164/) }],
      manifestProblemCount: 1,
      failures: [rejectedOptOut],
    });
    await expectExact('manifest-csv', [c as string, '+14155550123', '+8615000150000', OPTED_OUT], WINDOW);

    const missing = await exportSummary(deps(), settingsFor('manifest-missing'), {
      manifest: `s3://${s3.bucket}/manifests/nope.txt`,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(missing).toMatchObject({ name: 'InvalidInput', field: 'manifest' });
  });

  it('a bare scheduled event exports the configured EXPORT_PHONE_NUMBERS and advances the checkpoint; the next run starts at checkpoint − lateness', async () => {
    const configured = [BUSY, '+8613711112222', '+8615000150000', '+14155550123', OPTED_OUT, ...OTHERS.slice(0, 5)];
    const settings = settingsFor('scheduled', {
      EXPORT_PHONE_NUMBERS: configured.join(', '),
      EXPORT_LATENESS_SECONDS: '3600',
    });
    const event = { source: 'aws.events', 'detail-type': 'Scheduled Event' };

    const first = await exportSummary(deps(), settings, requestOf(event));
    expect(first).toMatchObject({
      complete: true,
      checkpointAdvanced: true,
      numbersTotal: configured.length,
      numbersDone: configured.length,
    });
    expect(first.jobId).toMatch(/^scheduled-/);
    expect(first.window.endTime - first.window.beginTime).toBe(DAY);
    expect(Math.abs(first.window.endTime - Date.now() / 1000)).toBeLessThan(60);
    const checkpointKey = `scheduled/_state/${first.jobId}/checkpoint.json`;
    expect(await listKeys('scheduled/_state/')).toEqual([checkpointKey]);
    expect(await getJson<Checkpoint>(checkpointKey)).toMatchObject({
      endTime: first.window.endTime,
      runId: first.runId,
    });
    await expectExact('scheduled', configured, first.window);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await exportSummary(
      deps(),
      settings,
      requestOf({ ...event, id: 'another', time: new Date().toISOString() }),
    );
    expect(second.jobId).toBe(first.jobId);
    expect(second.complete).toBe(true);
    expect(second.window.beginTime).toBe(first.window.endTime - 3600);
    expect(second.window.endTime).toBeGreaterThan(first.window.endTime);
    expect(await getJson<Checkpoint>(checkpointKey)).toMatchObject({
      endTime: second.window.endTime,
      runId: second.runId,
    });
    await expectExact('scheduled', configured, { beginTime: first.window.beginTime, endTime: second.window.endTime });
  });

  it('with 15% of requests failing (hangs, resets, 502s, InternalError.Timeout) the export still ends exact', async () => {
    twin.resetStats();
    twin.configure({ faults: { rate: 0.15, hangMs: 1500 } });
    let summary: RunSummary;
    try {
      summary = await exportSummary(deps({}, { timeoutMs: 1000 }), settingsFor('faults'), {
        phoneNumbers: EXACT_NUMBERS,
        beginTime: BEGIN,
        endTime: END,
      });
    } finally {
      twin.configure({ faults: {} });
    }
    const stats = twin.stats();
    expect(stats.faults).toBeGreaterThan(0);
    expect(summary.retries).toBeGreaterThan(0);
    expect(summary).toMatchObject({
      complete: true,
      numbersDone: EXACT_NUMBERS.length,
      records: truthCount(EXACT_NUMBERS, WINDOW),
      failures: [rejectedOptOut],
    });
    await expectExact('faults', EXACT_NUMBERS, WINDOW);
  });
});
