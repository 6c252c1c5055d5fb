import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ENV = {
  TENCENT_SMS_ENDPOINT: 'https://sms.tencentcloudapi.com',
  TENCENTCLOUD_SECRET_ID: 'AKIDbench',
  TENCENTCLOUD_SECRET_KEY: 'bench',
  SMS_SDK_APP_ID: '1400000000',
  TENCENT_RPS_BUDGET: '4',
};

/** Milliseconds from `import()` to a ready handler in a fresh Node process, as a Lambda init does it. */
async function loadOnce(file: string): Promise<number> {
  const script = `const t = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(file).href)}); if (typeof m.handler !== 'function') throw new Error('no handler'); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...ENV },
  });
  return Number(stdout);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Alternates the two files so machine noise falls on both alike; returns the medians. */
export async function compareColdStarts(
  ours: string,
  baseline: string,
  runs = 15,
): Promise<{ ours: number; baseline: number }> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await loadOnce(ours));
    b.push(await loadOnce(baseline));
  }
  return { ours: median(a), baseline: median(b) };
}
