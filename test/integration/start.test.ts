import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/offline.ts';
import { DEMO_NUMBERS } from '../../local/twin/data.ts';
import { freePorts } from '../support/ports.ts';

const sh = promisify(execFile);

/** The AWS CLI is on this machine image; elsewhere the printed `aws` example cannot be run. */
async function hasAwsCli(): Promise<boolean> {
  return sh('aws', ['--version']).then(
    () => true,
    () => false,
  );
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const BANNER = /\nsms-status is running locally\.[\s\S]*?Ctrl-C stops everything\.\n/;

/**
 * Piped, `npm start` passes the functions' log lines on as the JSON lines they are (Powertools names
 * the function in each), masked as in production; serverless-offline's own lines, which print the
 * path with the number in it, are not passed on.
 */
async function expectFunctionLogs(stdout: () => string): Promise<void> {
  const logs = (): Array<Record<string, unknown>> =>
    stdout()
      .replace(BANNER, '\n')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const deadline = Date.now() + 10_000;
  const lookupLine = (): Record<string, unknown> | undefined =>
    logs().find(
      (l) => l.function_name === 'sms-status-dev-lookup' && l.level === 'DEBUG' && l.phoneNumber === '+86*******2222',
    );
  while (!lookupLine() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(lookupLine(), stdout().replace(BANNER, '\n').slice(0, 2000)).toBeDefined();
  for (const line of logs())
    expect(typeof line.level === 'string' && typeof line.message === 'string', JSON.stringify(line)).toBe(true);
  expect(stdout().replace(BANNER, '\n')).not.toMatch(/(\+|%2B)86\d{11}/);
}

describe('npm start', () => {
  it('prints examples that work as printed, and Ctrl-C stops everything it started', { timeout: 120_000 }, async () => {
    const ports = await freePorts('HTTP_PORT', 'LAMBDA_PORT', 'S3_PORT', 'TWIN_PORT');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    };
    for (const name of [
      'TENCENT_SMS_ENDPOINT',
      'TENCENTCLOUD_SECRET_ID',
      'TENCENTCLOUD_SECRET_KEY',
      'SMS_SDK_APP_ID',
      'SMS_STATUS_API_KEY',
      'SMS_STATUS_QUIET',
    ]) {
      delete env[name];
    }
    const child = spawn(process.execPath, ['local/start.ts'], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 90_000;
      while (!stdout.includes('Ctrl-C stops everything') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(stdout, stderr).toContain('Ctrl-C stops everything');
      expect(stdout).toContain(`http://127.0.0.1:${ports.HTTP_PORT}/dev/v1/phone-numbers`);
      for (const number of Object.keys(DEMO_NUMBERS))
        expect(stdout, 'the banner names every demo number').toContain(number);
      const curls = stdout
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.startsWith('curl '));
      expect(curls.length).toBeGreaterThanOrEqual(2);
      for (const line of curls) {
        const { stdout: body } = await sh('sh', ['-c', line]);
        const parsed = JSON.parse(body);
        expect(parsed.statuses.length, line).toBeGreaterThan(0);
        expect(parsed.complete).toBe(true);
      }
      const awsLine = stdout
        .split('\n')
        .map((line) => line.trim())
        .find((line) => line.includes('aws lambda invoke'));
      expect(awsLine).toBeDefined();
      if (await hasAwsCli()) {
        const dir = await mkdtemp(join(tmpdir(), 'sms-status-aws-'));
        const { stdout: invoked } = await sh('sh', ['-c', awsLine as string], { cwd: dir });
        expect(JSON.parse(invoked.slice(invoked.lastIndexOf('{"phoneNumber"'))).statuses.length).toBeGreaterThan(0);
        await rm(dir, { recursive: true, force: true });
      }
      const cliLine = stdout
        .split('\n')
        .map((line) => line.trim())
        .find((line) => line.includes('npx sms-status lookup'));
      expect(cliLine).toBeDefined();
      const { stdout: cliOut } = await sh('sh', ['-c', cliLine as string], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, PATH: `${PROJECT_ROOT}/node_modules/.bin:${process.env.PATH}` },
      });
      expect(JSON.parse(cliOut).statuses.length).toBe(600);
      const exportLine = stdout
        .split('\n')
        .map((line) => line.trim())
        .find((line) => line.includes('npx sms-status export'));
      const { stdout: exportOut } = await sh('sh', ['-c', exportLine as string], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, PATH: `${PROJECT_ROOT}/node_modules/.bin:${process.env.PATH}` },
      });
      const summary = JSON.parse(exportOut);
      expect(summary.complete).toBe(true);
      expect(summary.numbersDone).toBe(2);
      expect(summary.records).toBeGreaterThan(0);
      // The callback URL it prints takes Tencent's callback: the printed push-test answers result 0.
      expect(stdout).toMatch(/Callback +http:\/\/127\.0\.0\.1:\d+\/dev\/v1\/callbacks\/tencent\/\S{32,}/);
      const pushLine = stdout
        .split('\n')
        .map((line) => line.trim())
        .find((line) => line.includes('npx sms-status push-test'));
      const { stdout: pushOut } = await sh('sh', ['-c', pushLine as string], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, PATH: `${PROJECT_ROOT}/node_modules/.bin:${process.env.PATH}` },
      });
      expect(JSON.parse(pushOut)).toMatchObject({ status: 200, answer: { result: 0, errmsg: 'OK' } });
      await expectFunctionLogs(() => stdout);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
    for (const port of Object.values(ports)) expect(await listening(port)).toBe(false);
  });
});
