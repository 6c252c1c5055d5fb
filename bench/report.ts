// `sms-status report` over a lake of 500,000 receipts (20 days × 64 day objects) in the local S3, beside
// a plain reader of the same objects (bench/fixtures/plain-lake-read.ts: list, get, gunzip, JSON.parse).
// Each is a fresh process, timed from spawn to exit, with its peak RSS; runs alternate. Runs alone:
// `npx node bench/report.ts [receipts] [runs]` prints the figures as JSON; bench/run.ts can call
// reportFigures().
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { GROUPS, objectKey } from '#lib/lake/layout.ts';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { toLine } from '#lib/lake/line.ts';
import { utcDay } from '#lib/utc-day.ts';
import { localEnv } from '../local/function-env.ts';
import { startLocalS3, type LocalS3 } from '../local/s3.ts';
import { prng } from '../local/twin/data.ts';
import { median } from './cold-start.ts';
import { PROJECT_ROOT } from './project-root.ts';

const run = promisify(execFile);
const DAY = 86_400;
const PREFIX = 'bench-report';
const FAILURES = ['UNDELIV', 'EXPIRED', 'REJECTD', 'MK:0005', 'DB:0141', 'MI:0013', 'DELETED', 'UNKNOWN'];
const COUNTRIES = ['86', '86', '86', '1', '44', '852', '65', '81'];

export interface ProcessFigures {
  seconds: number[];
  peakRssMb: number[];
}

export interface ReportFigures {
  receipts: number;
  objects: number;
  days: number;
  plain: ProcessFigures;
  report: ProcessFigures;
  /** Median report time ÷ median plain time. */
  ratio: number;
}

/** `receipts` spread over `days` × 64 day objects ending at `endDay` (unix seconds of a midnight). */
export async function writeLake(s3: LocalS3, receipts: number, days: number, endDay: number): Promise<number> {
  const client = new S3Client({
    ...s3ClientConfig({ local: true }),
    endpoint: s3.url,
    region: 'us-east-1',
    credentials: s3.credentials,
  });
  const limit = pLimit(16);
  const random = prng(24);
  const objects = days * GROUPS;
  const jobs = Array.from({ length: objects }, (_, i) => {
    const dayStart = endDay - (days - Math.floor(i / GROUPS)) * DAY;
    const count = Math.floor((receipts * (i + 1)) / objects) - Math.floor((receipts * i) / objects);
    const lines = Array.from({ length: count }, (_, j) => {
      const failed = random() < 0.12;
      const countryCode = COUNTRIES[Math.floor(random() * COUNTRIES.length)] as string;
      const subscriberNumber = String(1_000_000_000 + Math.floor(random() * 50_000_000));
      const description = failed ? (FAILURES[Math.floor(random() * FAILURES.length)] as string) : 'DELIVRD';
      const reportStatus = failed ? 'FAIL' : 'SUCCESS';
      const userReceiveTime = dayStart + Math.floor(random() * DAY);
      return toLine({
        serialNo: `2433:${i}-${j}`,
        phoneNumber: `+${countryCode}${subscriberNumber}`,
        countryCode,
        subscriberNumber,
        reportStatus,
        description,
        userReceiveTime,
        sdkAppId: '1400000000',
      });
    });
    const key = objectKey(PREFIX, utcDay(dayStart), i % GROUPS);
    return limit(() =>
      client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: gzipSync(`${lines.join('\n')}\n`) })),
    );
  });
  await Promise.all(jobs);
  client.destroy();
  return objects;
}

async function timed(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; peakRssMb: number; stdout: string }> {
  const started = performance.now();
  const { stdout, stderr } = await run(process.execPath, ['--import', './bench/rss-on-exit.ts', ...args], {
    cwd: PROJECT_ROOT,
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  const rss = /PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1];
  return { seconds, peakRssMb: Number(rss) / 1024, stdout };
}

export async function reportFigures(
  options: { receipts?: number; days?: number; runs?: number } = {},
): Promise<ReportFigures> {
  const { receipts = 500_000, days = 20, runs = 3 } = options;
  const s3 = await startLocalS3({ bucket: 'bench-report' });
  try {
    const endDay = Math.floor(Date.now() / 1000 / DAY) * DAY;
    const objects = await writeLake(s3, receipts, days, endDay);
    const env = { ...process.env, ...localEnv({ s3 }), EXPORT_PREFIX: PREFIX };
    const window = [String(endDay - days * DAY), String(endDay)];
    const plain: ProcessFigures = { seconds: [], peakRssMb: [] };
    const report: ProcessFigures = { seconds: [], peakRssMb: [] };
    for (let i = 0; i < runs; i++) {
      const p = await timed(['bench/fixtures/plain-lake-read.ts', ...window], env);
      if (Number(p.stdout) !== receipts)
        throw new Error(`the plain reader read ${p.stdout.trim()} receipts, not ${receipts}`);
      const r = await timed(
        [
          'cli/sms-status.js',
          'report',
          '--begin',
          window[0] as string,
          '--end',
          window[1] as string,
          '--format',
          'json',
        ],
        env,
      );
      const answered = (JSON.parse(r.stdout) as { receipts: number }).receipts;
      if (answered !== receipts) throw new Error(`the report counted ${answered} receipts, not ${receipts}`);
      for (const [figures, result] of [
        [plain, p],
        [report, r],
      ] as const) {
        figures.seconds.push(result.seconds);
        figures.peakRssMb.push(result.peakRssMb);
      }
    }
    return { receipts, objects, days, plain, report, ratio: median(report.seconds) / median(plain.seconds) };
  } finally {
    await s3.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `npx node bench/report.ts [receipts] [runs]`: 500,000 and 3 by default.
  const [receipts, runs] = process.argv.slice(2).map(Number);
  process.stdout.write(
    `${JSON.stringify(await reportFigures({ receipts: receipts || undefined, runs: runs || undefined }), null, 2)}\n`,
  );
}
