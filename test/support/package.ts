import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LOCAL_BUILDS, PROJECT_ROOT } from '../../local/offline.ts';

const run = promisify(execFile);

export interface Packaged {
  dir: string;
  template: any;
}

/** `serverless package` into a temporary folder: the CloudFormation template and the artifacts. */
/**
 * Held while `serverless package` runs, across the test workers: `--package DIR` still builds in the
 * project's own `.serverless/` and then moves it to DIR, so two at once delete each other's state (an
 * ENOENT, or one package's template under another's name). A folder made only if absent is the lock.
 */
const PACKAGE_LOCK = join(PROJECT_ROOT, LOCAL_BUILDS, 'package.lock');

export async function exclusivePackaging<T>(work: () => Promise<T>): Promise<T> {
  await mkdir(join(PROJECT_ROOT, LOCAL_BUILDS), { recursive: true });
  for (;;) {
    try {
      await mkdir(PACKAGE_LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      await sleep(100);
    }
  }
  try {
    return await work();
  } finally {
    await rm(PACKAGE_LOCK, { recursive: true, force: true });
  }
}

/** A lock left by a test run that was killed: cleared before a run's first package (global setup). */
export function clearPackageLock(): Promise<void> {
  return rm(PACKAGE_LOCK, { recursive: true, force: true });
}

export async function packageService(env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<Packaged> {
  const dir = await mkdtemp(join(tmpdir(), 'sms-status-package-'));
  const workFolder = `${LOCAL_BUILDS}/package-${basename(dir)}`;
  try {
    await exclusivePackaging(() =>
      run(
        process.execPath,
        [join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'), 'package', '--package', dir, ...args],
        {
          cwd: PROJECT_ROOT,
          env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', ESBUILD_WORK_FOLDER: workFolder, ...env },
          timeout: 180_000,
        },
      ),
    );
  } finally {
    await rm(join(PROJECT_ROOT, workFolder), { recursive: true, force: true });
  }
  const template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
  return { dir, template };
}

/**
 * The plain package: default parameters, with Tencent's requests per second pinned at its default, 20,
 * whatever the shell running the tests exports (template-edge.test.ts checks the budget's values at 20).
 */
export const PACKAGE_PLAIN = { TENCENT_RPS_TOTAL: '20' };

export const PACKAGE_WITH_SECRET = {
  TENCENTCLOUD_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sms-status/dev/tencent-AbCdEf',
  EXPORT_BUCKET: 'acme-sms-exports',
  EXPORT_PREFIX: 'receipts',
};

/** China (Beijing): the aws-cn partition, and a manifest prefix written without its trailing slash. */
export const PACKAGE_CHINA = {
  ...PACKAGE_WITH_SECRET,
  TENCENTCLOUD_SECRET_ARN: 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:sms-status/dev/tencent-AbCdEf',
  EXPORT_MANIFEST_PREFIX: 's3://acme-lists/sms',
  // Set at packaging time, as a user might: a deployed stack must not carry them.
  EXPORT_PHONE_NUMBERS: '+8613711112222,+14155550123',
};
export const PACKAGE_CHINA_ARGS = ['--region', 'cn-north-1'];

/** A package made by the test run's global setup (see global-stack.ts). */
export async function packaged(dir: string): Promise<Packaged> {
  return { dir, template: JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) };
}

export function resourcesOfType(template: any, type: string): Array<[string, any]> {
  return Object.entries(template.Resources as Record<string, any>).filter(([, r]) => r.Type === type);
}

/** A value with its Fn::If resolved by the template's own conditions. */
export function resolveIf(template: any, value: any): any {
  const condition = (c: any): boolean => {
    if (typeof c === 'string') return condition(template.Conditions[c]);
    if ('Fn::Not' in c) return !condition(c['Fn::Not'][0]);
    if ('Fn::Equals' in c) return c['Fn::Equals'][0] === c['Fn::Equals'][1];
    throw new Error(`unexpected condition ${JSON.stringify(c)}`);
  };
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => resolveIf(template, v));
  if ('Fn::If' in value) {
    const [name, then, otherwise] = value['Fn::If'];
    return resolveIf(template, condition(name) ? then : otherwise);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveIf(template, v)]));
}
