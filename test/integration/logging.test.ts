import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/offline.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';

const run = promisify(execFile);

describe('lookup logs at debug level', () => {
  let twin: Twin;
  let output: string;
  let lines: Array<Record<string, unknown>>;
  beforeAll(async () => {
    twin = await startTwin({});
    const { stdout, stderr } = await run(process.execPath, ['test/support/debug-lookups.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH,
        // What this file reads: every log line and the EMF metrics (the test runner silences both).
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        POWERTOOLS_METRICS_DISABLED: 'false',
        TENCENT_SMS_ENDPOINT: twin.url,
        TENCENTCLOUD_SECRET_ID: twin.credentials.secretId,
        TENCENTCLOUD_SECRET_KEY: twin.credentials.secretKey,
        SMS_SDK_APP_ID: twin.sdkAppId,
        TENCENT_RPS_BUDGET: '20',
      },
    });
    output = stdout + stderr;
    // Powertools writes warnings and errors to stderr, the rest to stdout; Lambda keeps both.
    lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  });
  afterAll(() => twin?.close());

  it('are structured JSON with the Lambda request id and each Tencent RequestId', () => {
    const requests = lines.filter((l) => l.message === 'Tencent PullSmsSendStatusByPhoneNumber');
    expect(requests.length).toBeGreaterThan(5);
    for (const line of requests) {
      expect(line.level).toBe('DEBUG');
      expect(line.function_request_id).toBe('lambda-request-1');
      expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof line.latencyMs).toBe('number');
    }
    expect(lines.some((l) => l.message === 'lookup' && l.level === 'INFO')).toBe(true);
    expect(
      lines.some(
        (l) =>
          l.message === 'lookup failed' &&
          (l.error as { code?: string })?.code === 'FailedOperation.PhoneNumberInBlacklist',
      ),
    ).toBe(true);
  });

  it('emit EMF metrics: upstream latency, requests, retries, throttles', () => {
    const emf = lines.filter((l) => l._aws !== undefined);
    expect(emf.length).toBeGreaterThan(0);
    const names = emf.flatMap((l) =>
      ((l._aws as any).CloudWatchMetrics[0].Metrics as Array<{ Name: string }>).map((m) => m.Name),
    );
    expect(names).toEqual(expect.arrayContaining(['UpstreamLatency', 'TencentRequests', 'Retries', 'Throttles']));
  });

  it('never contain the secret key, a signature, an Authorization header or an unmasked phone number', () => {
    expect(output.length).toBeGreaterThan(1000);
    expect(output).not.toContain(twin.credentials.secretKey);
    expect(output).not.toContain('TC3-HMAC-SHA256 Credential');
    expect(output).not.toMatch(/authorization/i);
    expect(output).not.toContain('caller-token-should-not-be-logged');
    expect(output).not.toMatch(/\+\d{8,}/);
    for (const digits of ['8613711112222', '13711112222', '8613800138000', '8613900139000', '8615000150000']) {
      expect(output).not.toContain(digits);
    }
    expect(output).toContain('+86*******2222');
  });
});
