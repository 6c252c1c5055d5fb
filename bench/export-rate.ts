import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import type { Window } from '#lib/export/types.ts';
import { PROJECT_ROOT } from './project-root.ts';
import { startEventBridge, type EventBridge } from '../local/eventbridge/eventbridge.ts';
import { localEnv } from '../local/function-env.ts';
import { readExport } from '../local/read-export.ts';
import { startLocalS3, type LocalS3 } from '../local/s3.ts';
import { DEMO_CREDENTIALS, DEMO_SDK_APP_ID, type FaultKind } from '../local/twin/twin.ts';
import { twinControl } from '../test/support/twin-control.ts';
import { freePorts } from '../test/support/ports.ts';

const run = promisify(execFile);

export interface ExportRateResult {
  numbers: number;
  requests: number;
  /** Accepted requests per second over the twin's active period. */
  rate: number;
  ceiling: number;
  throttled: number;
  faults: number;
  records: number;
  exact: boolean;
  exitCode: number;
  seconds: number;
  /** With events on: the events the EventBridge stand-in accepted (one per record when all went well). */
  events?: number;
}

/** The bus of a benchmark's delivery events. */
const BENCH_BUS = 'sms-status-bench';

/** Numbers the twin gives 0–12 receipts each (one page), so requests ≈ numbers and the rate is the pacer's. */
export function benchNumbers(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+86139${String(10_000_000 + i * 7919).slice(-8)}`);
}

/**
 * One `sms-status export` process at TENCENT_RPS_BUDGET=20 against the twin (100–300 ms answers, the
 * real 20 requests/second limit, optional injected faults), the records read back from S3 and
 * compared with the twin's ground truth. With `events`, the export publishes delivery events to a local
 * EventBridge stand-in (EVENT_BUS_NAME, AWS_ENDPOINT_URL_EVENTBRIDGE); without, EVENTS_ENABLED=false.
 */
export async function exportAtCeiling(options: {
  numbers: number;
  faultRate?: number;
  events?: boolean;
}): Promise<ExportRateResult> {
  const kinds: FaultKind[] = ['timeout', 'http5xx', 'reset', 'internalTimeout'];
  // The twin runs in a process of its own, as Tencent would: the local S3 server's work in this process
  // must not delay the twin's clock of arrivals.
  const twin = await twinProcess();
  await twin.control.configure({
    latencyMs: [100, 300],
    faults: { rate: options.faultRate ?? 0, kinds, hangMs: 3000 },
  });
  const s3 = await startLocalS3();
  const bridge = options.events ? await startEventBridge({ buses: [BENCH_BUS], maxEvents: 1 }) : undefined;
  try {
    const numbers = benchNumbers(options.numbers);
    const begin = Math.floor(Date.now() / 1000) - 6 * 86400 + 600;
    const env = {
      ...process.env,
      ...localEnv({ s3 }),
      ...twin.env,
      TENCENT_RPS_BUDGET: '20',
      TENCENT_TIMEOUT_MS: '2000',
      EXPORT_PREFIX: 'bench',
      ...eventsEnv(bridge),
    };
    const started = performance.now();
    const child = await exportCli(['--phone-numbers', numbers.join(','), '--begin', String(begin)], env);
    const seconds = (performance.now() - started) / 1000;
    const stats = await twin.control.stats();
    const end = JSON.parse(child.stdout || '{}').window?.endTime ?? Math.floor(Date.now() / 1000);
    const { records, exact } = await comparedWithTwin(s3, twin.control, numbers, { beginTime: begin, endTime: end });
    const active = ((stats.lastAcceptedAt ?? 0) - (stats.firstAcceptedAt ?? 0)) / 1000;
    const rate = active > 0 ? (stats.accepted - 1) / active : 0;
    const { received: requests, throttled, faults } = stats;
    return {
      numbers: numbers.length,
      requests,
      rate,
      ceiling: 20,
      throttled,
      faults,
      records,
      exact,
      exitCode: child.code,
      seconds,
      ...(bridge && { events: bridge.stats().entriesAccepted }),
    };
  } finally {
    await bridge?.close();
    await twin.close();
    await s3.close();
  }
}

/** Events to the stand-in, or none at all (whatever the shell running the benchmark says). */
function eventsEnv(bridge: EventBridge | undefined): Record<string, string> {
  if (!bridge) return { EVENTS_ENABLED: 'false', EVENT_BUS_NAME: '', AWS_ENDPOINT_URL_EVENTBRIDGE: '' };
  return { EVENTS_ENABLED: 'true', EVENT_BUS_NAME: BENCH_BUS, AWS_ENDPOINT_URL_EVENTBRIDGE: bridge.url };
}

/** `sms-status export` with these arguments: its exit code and standard output, whatever the code. */
function exportCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return run(process.execPath, ['cli/sms-status.js', 'export', ...args], {
    cwd: PROJECT_ROOT,
    env,
    maxBuffer: 64 * 1024 * 1024,
  }).then(
    (out) => ({ code: 0, stdout: out.stdout }),
    (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, stdout: error.stdout ?? '' }),
  );
}

/** The lake under `bench/` against the twin's truth for the numbers in the window: each receipt once, none missing. */
async function comparedWithTwin(
  s3: LocalS3,
  control: ReturnType<typeof twinControl>,
  numbers: string[],
  window: Window,
): Promise<{ records: number; exact: boolean }> {
  const s3Client = new S3Client({
    ...s3ClientConfig({ local: true }),
    endpoint: s3.url,
    region: 'us-east-1',
    credentials: s3.credentials,
  });
  const exported = (await readExport(s3Client, s3.bucket, 'bench')).flatMap((o) => o.records.map((r) => r.serialNo));
  s3Client.destroy();
  const truth = (await Promise.all(numbers.map((n) => control.truth(n, window.beginTime, window.endTime))))
    .flat()
    .map((s) => s.SerialNo as string);
  const held = new Set(exported);
  const exact = exported.length === truth.length && held.size === exported.length && truth.every((s) => held.has(s));
  return { records: exported.length, exact };
}

/** `sms-status twin` as a child process, reached through its control routes. */
async function twinProcess(): Promise<{
  url: string;
  env: Record<string, string>;
  control: ReturnType<typeof twinControl>;
  close(): Promise<void>;
}> {
  const { twin: port } = await freePorts('twin');
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['cli/sms-status.js', 'twin', '--port', String(port)], {
    cwd: PROJECT_ROOT,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '' },
  });
  const control = twinControl(url);
  for (let i = 0; ; i++) {
    try {
      await control.stats();
      break;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const env = {
    TENCENT_SMS_ENDPOINT: url,
    TENCENTCLOUD_SECRET_ID: DEMO_CREDENTIALS.secretId,
    TENCENTCLOUD_SECRET_KEY: DEMO_CREDENTIALS.secretKey,
    SMS_SDK_APP_ID: DEMO_SDK_APP_ID,
  };
  return {
    url,
    env,
    control,
    async close() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
