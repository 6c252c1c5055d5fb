/**
 * A lake as production gets one: `sms-status export` (the CLI) pulls the twin's demo numbers — several
 * countries, real carrier codes, numbers that fail repeatedly — over six days into a local S3. The
 * twin's own records of the same numbers and window are the truth a report is held against.
 */
import type { ExportRecord } from '#lib/lake/line.ts';
import { localEnv } from '../../local/function-env.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3.ts';
import { DEMO_NUMBERS } from '../../local/twin/data.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import { cliEnv, runCli } from './cli.ts';
import { asExported } from './lake.ts';

const DAY = 86_400;
/**
 * Left out: one Tencent refuses (opted out), and one with 150 receipts in one second, of which no
 * export can get more than a page (its lake holds a part of them, so no truth to compare with).
 */
const LEFT_OUT = new Set(['+8613900139000', '+8613600136000']);

export interface ExportedLake {
  twin: Twin;
  s3: LocalS3;
  /** The CLI's environment for this lake (EXPORT_BUCKET, EXPORT_PREFIX, AWS_ENDPOINT_URL_S3, credentials). */
  env: NodeJS.ProcessEnv;
  prefix: string;
  /** The exported window, both ends included (as the export takes it). */
  beginTime: number;
  endTime: number;
  /** Every receipt the lake holds. */
  records: ExportRecord[];
  close(): Promise<void>;
}

export async function exportedLake(prefix: string): Promise<ExportedLake> {
  const [twin, s3] = await Promise.all([startTwin(), startLocalS3({ bucket: 'report-lake' })]);
  const endTime = Math.floor(twin.now() / 1000);
  const beginTime = endTime - 6 * DAY;
  const numbers = Object.keys(DEMO_NUMBERS).filter((n) => !LEFT_OUT.has(n));
  const env = cliEnv({ ...localEnv({ twin, s3 }), TENCENT_RPS_BUDGET: '20', EXPORT_PREFIX: prefix });
  const run = await runCli(
    ['export', '--phone-numbers', numbers.join(','), '--begin', String(beginTime), '--end', String(endTime)],
    env,
  );
  const close = async () => void (await Promise.all([twin.close(), s3.close()]));
  if (run.code !== 0) {
    await close();
    throw new Error(`sms-status export exited ${run.code}:\n${run.stderr.slice(-4000)}`);
  }
  const records = numbers.flatMap((n) => asExported(twin.truth(n, beginTime, endTime), twin.sdkAppId));
  return { twin, s3, env, prefix, beginTime, endTime, records, close };
}
