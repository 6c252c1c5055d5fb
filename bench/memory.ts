import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { PROJECT_ROOT } from './project-root.ts';
import { localEnv } from '../local/function-env.ts';
import { startLocalS3 } from '../local/s3.ts';
import { startTwin } from '../local/twin/twin.ts';
import { benchNumbers } from './export-rate.ts';

const run = promisify(execFile);

export interface MemoryResult {
  records: number;
  peakRssMb: number;
  /** Live JavaScript heap, sampled every 50 ms. */
  peakHeapMb: number;
  seconds: number;
}

/**
 * Peak RSS of one `sms-status export` process over a manifest of numbers with 99 receipts each (one
 * page per number, so the run takes numbers ÷ 20 seconds at the ceiling).
 */
export async function exportMemory(records: number, nodeOptions?: string): Promise<MemoryResult> {
  const perNumber = 99;
  const twin = await startTwin({ perNumber });
  const s3 = await startLocalS3();
  try {
    const numbers = benchNumbers(Math.ceil(records / perNumber));
    const s3Client = new S3Client({
      ...s3ClientConfig({ local: true }),
      endpoint: s3.url,
      region: 'us-east-1',
      credentials: s3.credentials,
    });
    await s3Client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: 'manifests/bench.txt', Body: numbers.join('\n') }),
    );
    s3Client.destroy();
    const begin = Math.floor(twin.now() / 1000) - 7 * 86400 + 600;
    const started = performance.now();
    const { stdout, stderr } = await run(
      process.execPath,
      [
        '--import',
        './bench/rss-on-exit.ts',
        'cli/sms-status.js',
        'export',
        '--manifest',
        `s3://${s3.bucket}/manifests/bench.txt`,
        '--begin',
        String(begin),
      ],
      {
        cwd: PROJECT_ROOT,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          ...process.env,
          ...localEnv({ twin, s3 }),
          TENCENT_RPS_BUDGET: '20',
          EXPORT_PREFIX: 'bench',
          ...(nodeOptions && { NODE_OPTIONS: nodeOptions }),
        },
      },
    );
    const summary = JSON.parse(stdout) as { records: number; complete: boolean };
    if (!summary.complete) throw new Error('the memory benchmark export did not complete');
    const [, rss, heap] = /PEAK_RSS_KB=(\d+) PEAK_HEAP_KB=(\d+)/.exec(stderr) ?? [];
    return {
      records: summary.records,
      peakRssMb: Number(rss) / 1024,
      peakHeapMb: Number(heap) / 1024,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await twin.close();
    await s3.close();
  }
}
