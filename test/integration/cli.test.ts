/**
 * The CLI as a user runs it: `node cli/sms-status.js …` on Node 24, configured by the environment,
 * talking to a twin over loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupResult } from '#lib/status/lookup.ts';
import { byReceiveTime } from '#lib/receipt.ts';
import { fromTencent } from '#lib/status/from-tencent.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import { closedPort, seconds } from '../support/net.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = 'cli/sms-status.js';
const BUSY = '+8613800138000';
const CREDENTIALS = { secretId: 'AKIDcliTEST000000000000000000000', secretKey: 'cliTESTsecretKEYnotInLogs0000000' };
const SDK_APP_ID = '1400123456';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Only what the CLI reads, so no variable of the test runner's environment leaks in. */
function cliEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...vars };
}

function launch(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<Run> {
  const child = launch(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

describe('sms-status CLI against the twin', () => {
  let twin: Twin;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    twin = await startTwin({ credentials: CREDENTIALS, sdkAppId: SDK_APP_ID });
    env = cliEnv({
      TENCENT_SMS_ENDPOINT: twin.url,
      TENCENTCLOUD_SECRET_ID: twin.credentials.secretId,
      TENCENTCLOUD_SECRET_KEY: twin.credentials.secretKey,
      SMS_SDK_APP_ID: twin.sdkAppId,
      TENCENT_RPS_BUDGET: '20',
    });
  });
  afterAll(() => twin.close());

  it('runs on Node 24', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('(a) lookup --all prints every record of the busy hour as JSON, sorted and unique; exit 0', async () => {
    twin.resetStats();
    const begin = new Date(twin.now() - 5 * 3600_000).toISOString();
    const result = await run(['lookup', BUSY, '--all', '--begin', begin], env);
    expect(result.stderr).not.toContain(CREDENTIALS.secretKey);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as LookupResult;
    const beginTime = seconds(Date.parse(begin));
    expect(body.phoneNumber).toBe(BUSY);
    expect(body.beginTime).toBe(beginTime);
    const truth = twin.truth(BUSY, body.beginTime, body.endTime).map(fromTencent).sort(byReceiveTime);
    expect(truth).toHaveLength(600);
    expect(body.complete).toBe(true);
    expect(body.statuses).toEqual(truth);
    expect(new Set(body.statuses.map((s) => s.serialNo)).size).toBe(600);
    expect(body.requestIds.length).toBeGreaterThan(1);
    const stats = twin.stats();
    expect(stats.maxPerSecond).toBeLessThanOrEqual(20);
    // Every admitted request was answered with records (a throttled one is retried, not admitted).
    expect(stats.accepted, JSON.stringify(stats)).toBe(body.requestIds.length);
  });

  it('(b) a bad phone number exits non-zero with an error body and sends no request', async () => {
    twin.resetStats();
    const result = await run(['lookup', '13711112222'], env);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    const body = JSON.parse(result.stderr.trim()) as { error: { code: string; field?: string; message: string } };
    expect(body.error).toMatchObject({ code: 'InvalidParameterValue.IncorrectPhoneNumber', field: 'phoneNumber' });
    expect(body.error.message).toContain('phoneNumber');
    expect(twin.stats().received).toBe(0);
  });

  it('(b) an error from Tencent is an error body on stderr too, without the secret', async () => {
    const result = await run(['lookup', '+8613900139000'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain(CREDENTIALS.secretKey);
    const body = JSON.parse(result.stderr.trim()) as { error: { code: string; requestId?: string } };
    expect(body.error.code).toBe('FailedOperation.PhoneNumberInBlacklist');
    expect(body.error.requestId).toBeTruthy();
  });

  it('an unreachable endpoint exits 1 with an UpstreamUnavailable body after its retries', async () => {
    const port = await closedPort();
    const result = await run(['lookup', '+8613711112222'], {
      ...env,
      TENCENT_SMS_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr.trim())).toMatchObject({ error: { code: 'ECONNREFUSED' } });
  });

  it('missing credentials exit 2 naming the variable, before any request', async () => {
    twin.resetStats();
    const result = await run(
      ['lookup', '+8613711112222'],
      cliEnv({ TENCENT_SMS_ENDPOINT: twin.url, SMS_SDK_APP_ID: SDK_APP_ID }),
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('TENCENTCLOUD_SECRET_ID');
    expect(twin.stats().received).toBe(0);
  });

  it('an unknown option exits 2 with a usage message', async () => {
    const result = await run(['lookup', '+8613711112222', '--frobnicate'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/frobnicate/);
  });

  it('(c) --help exits 0 and lists lookup and twin', async () => {
    const result = await run(['--help'], cliEnv({}));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/sms-status lookup /);
    expect(result.stdout).toMatch(/sms-status twin /);
  });
});

describe('sms-status twin', () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('(d) twin --port P starts, answers a lookup, and stops on SIGTERM', async () => {
    const port = await closedPort();
    const keys = {
      TENCENTCLOUD_SECRET_ID: CREDENTIALS.secretId,
      TENCENTCLOUD_SECRET_KEY: CREDENTIALS.secretKey,
      SMS_SDK_APP_ID: SDK_APP_ID,
    };
    const twinChild = launch(['twin', '--port', String(port)], cliEnv(keys));
    child = twinChild;
    let stderr = '';
    twinChild.stderr?.setEncoding('utf8');
    const exited = once(twinChild, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`twin did not start: ${stderr}`)), 15_000);
      twinChild.stderr?.on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      twinChild.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`twin exited with ${code}: ${stderr}`));
      });
    });
    expect(stderr).toContain(`http://127.0.0.1:${port}`);

    const result = await run(
      [
        'lookup',
        '+8613711112222',
        '--begin',
        new Date(Date.now() - 7 * 24 * 3600_000 + 600_000).toISOString(),
        '--all',
      ],
      cliEnv({ ...keys, TENCENT_SMS_ENDPOINT: `http://127.0.0.1:${port}`, TENCENT_RPS_BUDGET: '20' }),
    );
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as LookupResult;
    expect(body.complete).toBe(true);
    expect(body.statuses.length).toBeGreaterThan(0);
    expect(body.statuses.every((s) => s.phoneNumber === '+8613711112222')).toBe(true);

    twinChild.kill('SIGTERM');
    const [code, signal] = await exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
  });
});
