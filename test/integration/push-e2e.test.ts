/**
 * Tencent's push at volume, end to end on a stack of its own: the twin pushes 10,000 receipts at 500 a
 * second to the local receiver (serverless-offline), which is killed (SIGKILL) and started again
 * part-way, while an export of the same numbers runs; the inbox is drained as AWS would. The lake must
 * end holding exactly the twin's truth, each serialNo once.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '#lib/connect.ts';
import { loadExportConfig, loadTencentConfig } from '#lib/config.ts';
import { exportSettings } from '#lib/export/from-config.ts';
import { runExport } from '#lib/export/run.ts';
import type { RunSummary } from '#lib/export/types.ts';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { EXPORT_RETRY } from '#lib/pace/retry.ts';
import { startInboxDrain, type InboxDrain } from '../../local/inbox-drain.ts';
import { startOffline, type Offline } from '../../local/offline.ts';
import { listKeys, readExport } from '../../local/read-export.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import type { NumberProfile } from '../../local/twin/data.ts';
import { freePorts } from '../support/ports.ts';

const HOUR = 3600;
/** 100 numbers × 100 receipts over the last two days: 10,000 receipts, one page per number and day. */
const NUMBERS = Array.from({ length: 100 }, (_, i) => `+86139${String(10_000_000 + i)}`);
const PROFILE: NumberProfile = { count: 100, fromAgo: 48 * HOUR, toAgo: HOUR, failRate: 0.1 };

let stack: Stack;
let restarted: Offline | undefined;
let drain: InboxDrain | undefined;
let s3: S3Client;

beforeAll(async () => {
  const ports = await freePorts('http', 'lambda', 's3', 'twin');
  const env: NodeJS.ProcessEnv = { ...process.env, EXPORT_SCHEDULE_ENABLED: 'false', INBOX_SCHEDULE_ENABLED: 'false' };
  for (const name of [
    'TENCENT_SMS_ENDPOINT',
    'TENCENTCLOUD_SECRET_ID',
    'TENCENTCLOUD_SECRET_KEY',
    'SMS_SDK_APP_ID',
    'TWIN_PUSH_URL',
  ])
    delete env[name];
  stack = await startStack({
    ports,
    env,
    twin: { numbers: Object.fromEntries(NUMBERS.map((n) => [n, PROFILE])), rateLimit: 20 },
  });
  s3 = new S3Client({
    ...s3ClientConfig({ local: true }),
    endpoint: stack.s3.url,
    region: 'us-east-1',
    credentials: stack.s3.credentials,
  });
}, 180_000);

afterAll(async () => {
  await drain?.stop();
  s3?.destroy();
  await restarted?.stop();
  await stack?.stop();
}, 60_000);

/** Exports the same numbers in-process, as the export Lambda would, against the same twin and S3. */
async function exportSameNumbers(): Promise<RunSummary> {
  const tencent = loadTencentConfig(stack.env);
  const config = loadExportConfig(stack.env);
  const client = connect(tencent, { retry: EXPORT_RETRY, clampToRetention: true });
  const deps = { client, store: s3Store({ local: true }, s3), now: Date.now, remainingMs: () => 600_000 };
  const end = Math.floor(Date.now() / 1000);
  const { summary } = await runExport(deps, exportSettings(config, tencent), {
    phoneNumbers: NUMBERS,
    beginTime: end - 49 * HOUR,
    endTime: end,
  });
  return summary;
}

describe('push at volume', () => {
  it(
    'ends with the lake holding exactly the twin’s truth, each serialNo once, through a receiver killed mid-way and a concurrent export',
    { timeout: 240_000 },
    async () => {
      const twin = stack.twin as NonNullable<Stack['twin']>;
      const end = Math.floor(twin.now() / 1000);
      const truth = NUMBERS.flatMap((n) => twin.truth(n, end - 7 * 24 * HOUR, end));
      expect(truth).toHaveLength(10_000);

      const push = twin.push({ url: stack.callbackUrl, rate: 500, batchSize: 100, numbers: NUMBERS });
      drain = startInboxDrain(stack.offline.lambdaUrl, 2000);
      const exported = exportSameNumbers();

      // Kill the receiver once a quarter is in, then bring it back on the same ports.
      while (push.stats().acked < 2500) await new Promise((r) => setTimeout(r, 100));
      await stack.offline.kill();
      const ackedAtKill = push.stats().acked;
      restarted = await startOffline({
        httpPort: Number(new URL(stack.offline.httpUrl).port),
        lambdaPort: Number(new URL(stack.offline.lambdaUrl).port),
        env: stack.env,
      });

      const pushed = await push.finished;
      expect(pushed).toMatchObject({ done: true, acked: 10_000 });
      expect(pushed.retries, 'batches sent again while the receiver was down').toBeGreaterThan(0);
      expect(ackedAtKill).toBeLessThan(10_000);
      const summary = await exported;
      expect(summary.complete).toBe(true);

      // Drain until the inbox is empty (the drain loop may be mid-invocation: `now` queues behind it).
      for (let i = 0; i < 20 && (await listKeys(s3, stack.s3.bucket, 'sms-status/_inbox/')).length > 0; i++)
        await drain.now();
      expect(await listKeys(s3, stack.s3.bucket, 'sms-status/_inbox/')).toEqual([]);

      const lake = (await readExport(s3, stack.s3.bucket, 'sms-status'))
        .flatMap((o) => o.records)
        .filter((r) => NUMBERS.includes(r.phoneNumber));
      const serials = lake.map((r) => r.serialNo);
      expect(new Set(serials).size, 'each serialNo once').toBe(serials.length);
      expect([...serials].sort()).toEqual(truth.map((r) => r.SerialNo).sort());
      const byserial = new Map(truth.map((r) => [r.SerialNo, r]));
      for (const record of lake) {
        const receipt = byserial.get(record.serialNo);
        expect(record.userReceiveTime).toBe(receipt?.UserReceiveTime);
        expect(record.reportStatus).toBe(receipt?.ReportStatus);
        expect(record.description).toBe(receipt?.Description);
      }
    },
  );
});
