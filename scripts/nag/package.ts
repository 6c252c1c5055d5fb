// The stack the rule packs read: `serverless package --stage prod` with every setting that adds resources
// (the Tencent secret, the alarm mail, the lake's KMS key), into .serverless/ as a deploy would. Every
// variable of config/defaults.cjs is cleared first, so the shell running it cannot change what is checked.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_BUILDS, PROJECT_ROOT } from '../../local/offline.ts';
import DEFAULTS from '../../config/defaults.cjs';

const run = promisify(execFile);

export const NAG_STAGE = 'prod';

/** The settings that add resources; everything else keeps its default. */
export const NAG_SETTINGS: Readonly<Record<string, string>> = {
  TENCENTCLOUD_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sms-status/prod/tencent-AbCdEf',
  ALARM_EMAIL: 'ops@example.com',
  KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
};

export const NAG_TEMPLATE = join(PROJECT_ROOT, '.serverless/cloudformation-template-update-stack.json');

/** The environment of the package: this one without any of the project's variables, plus `settings`. */
export function nagEnvironment(settings: Record<string, string> = NAG_SETTINGS): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1' };
  for (const name of Object.keys(DEFAULTS)) delete env[name];
  return { ...env, ...settings };
}

/** Packages the stack into .serverless/ and returns the template's path. */
export async function packageForNag(): Promise<string> {
  const workFolder = `${LOCAL_BUILDS}/nag-${process.pid}`;
  try {
    await run(
      process.execPath,
      [join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'), 'package', '--stage', NAG_STAGE],
      {
        cwd: PROJECT_ROOT,
        env: { ...nagEnvironment(), ESBUILD_WORK_FOLDER: workFolder },
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`serverless package failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
  } finally {
    await rm(join(PROJECT_ROOT, workFolder), { recursive: true, force: true });
  }
  return NAG_TEMPLATE;
}
