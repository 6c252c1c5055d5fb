import { createServer, type AddressInfo } from 'node:net';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStack, type Stack } from '../../local/stack.ts';
import { freePorts } from '../support/ports.ts';
import { twinControl } from '../support/twin-control.ts';

const stack = inject('stack');
const twin = twinControl(stack.twinUrl);
const api = `${stack.httpUrl}/dev/v1/phone-numbers`;
const now = (): number => Math.floor(Date.now() / 1000);

async function get(path: string, apiKey = stack.apiKey) {
  const response = await fetch(`${api}/${path}`, { headers: apiKey ? { 'x-api-key': apiKey } : {} });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

describe('lookup over API Gateway (serverless-offline)', () => {
  it('answers 403 without an API key and with a wrong one', async () => {
    expect((await get('%2B8613711112222/statuses', '')).status).toBe(403);
    expect((await get('%2B8613711112222/statuses', 'not-the-key')).status).toBe(403);
  });

  it('returns the records of a number, sorted and unique, for + and %2B alike', async () => {
    const begin = now() - 6 * 24 * 3600;
    const truth = await twin.truth('+8613711112222', begin, now());
    for (const form of ['+8613711112222', '%2B8613711112222']) {
      const { status, body, headers } = await get(`${form}/statuses?beginTime=${begin}`);
      expect(status).toBe(200);
      expect(headers.get('content-type')).toContain('application/json');
      expect(body.phoneNumber).toBe('+8613711112222');
      expect(body.complete).toBe(true);
      expect(body.requestIds).toHaveLength(1);
      expect(body.statuses.map((s: any) => s.serialNo).sort()).toEqual(truth.map((s) => s.SerialNo).sort());
      const times = body.statuses.map((s: any) => s.userReceiveTime);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(Object.keys(body.statuses[0]).sort()).toEqual(
        [
          'countryCode',
          'description',
          'phoneNumber',
          'reportStatus',
          'serialNo',
          'subscriberNumber',
          'userReceiveTime',
        ].sort(),
      );
    }
  });

  it('accepts ISO-8601 times and reports a page cut by limit as incomplete', async () => {
    const begin = new Date((now() - 6 * 24 * 3600) * 1000).toISOString();
    const end = new Date().toISOString();
    const { status, body } = await get(`%2B8613711112222/statuses?beginTime=${begin}&endTime=${end}&limit=5`);
    expect(status).toBe(200);
    expect(body.statuses).toHaveLength(5);
    expect(body.complete).toBe(false);
    expect(body.beginTime).toBe(Math.floor(Date.parse(begin) / 1000));
  });

  it('returns every record past 100 with all=true', async () => {
    const begin = now() - 6 * 3600;
    const truth = await twin.truth('+8613800138000', begin, now());
    expect(truth.length).toBeGreaterThan(500);
    const { status, body } = await get(`%2B8613800138000/statuses?all=true&beginTime=${begin}`);
    expect(status).toBe(200);
    expect(body.complete).toBe(true);
    expect(body.statuses).toHaveLength(truth.length);
    expect(new Set(body.statuses.map((s: any) => s.serialNo)).size).toBe(truth.length);
    expect(body.requestIds.length).toBeGreaterThan(1);
  });

  const long = '9'.repeat(500);
  const bad: Array<[string, string, string]> = [
    ['8613711112222/statuses', 'phoneNumber', 'no plus sign'],
    ['%2B86137abc12222/statuses', 'phoneNumber', 'letters'],
    ['%2B123/statuses', 'phoneNumber', 'too short'],
    ['%2B86137111122223333/statuses', 'phoneNumber', 'too long'],
    ['%2B0613711112222/statuses', 'phoneNumber', 'country code 0'],
    ['%2B86%20137111122/statuses', 'phoneNumber', 'a space'],
    ['%2B86%2B13711112222/statuses', 'phoneNumber', 'two plus signs'],
    [`%2B${long}/statuses`, 'phoneNumber', 'absurdly long number'],
    ['%2B8613711112222/statuses?beginTime=yesterday', 'beginTime', 'non-numeric beginTime'],
    ['%2B8613711112222/statuses?beginTime=1', 'beginTime', 'beginTime before 2000'],
    [`%2B8613711112222/statuses?beginTime=${now() - 401 * 86400}`, 'beginTime', 'beginTime past the lake’s 400 days'],
    [`%2B8613711112222/statuses?beginTime=${now() + 3600}`, 'beginTime', 'beginTime in the future'],
    ['%2B8613711112222/statuses?endTime=99999999999', 'endTime', 'endTime past 2100'],
    ['%2B8613711112222/statuses?endTime=2026-13-45T99:00:00Z', 'endTime', 'impossible ISO date'],
    [`%2B8613711112222/statuses?beginTime=${now() - 60}&endTime=${now() - 3600}`, 'endTime', 'endTime < beginTime'],
    ['%2B8613711112222/statuses?limit=0', 'limit', 'limit 0'],
    ['%2B8613711112222/statuses?limit=101', 'limit', 'limit 101'],
    ['%2B8613711112222/statuses?limit=x', 'limit', 'limit x'],
    ['%2B8613711112222/statuses?limit=1.5', 'limit', 'limit 1.5'],
    ['%2B8613711112222/statuses?limit=-1', 'limit', 'limit -1'],
    ['%2B8613711112222/statuses?all=yes', 'all', 'all=yes'],
    ['%2B8613711112222/statuses?all=TRUE1', 'all', 'all=TRUE1'],
    [`%2B8613711112222/statuses?beginTime=${long}`, 'beginTime', 'absurdly long beginTime'],
    ['%2B8613711112222/statuses?begintime=1', 'begintime', 'misspelt parameter'],
  ];
  it.each(bad)('answers 400 naming the field for %s (%s: %s)', async (path, field) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body.error.field).toBe(field);
    expect(body.error.code).toMatch(/^(InvalidParameter|InvalidParameterValue\.\w+)$/);
    expect(body.error.message).toContain(field);
  });

  it('answers an opted-out number with 400 naming PhoneNumberInBlacklist', async () => {
    const { status, body } = await get('%2B8613900139000/statuses');
    expect(status).toBe(400);
    expect(body.error.code).toBe('FailedOperation.PhoneNumberInBlacklist');
    expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers callers over the budget with 429 and Retry-After, never 5xx, and keeps Tencent under 20 req/s', async () => {
    await twin.reset();
    const begin = now() - 6 * 24 * 3600;
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => get(`%2B8613711112222/statuses?beginTime=${begin}&limit=1`)),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const answer of limited) {
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(answer.body.error.code).toBe('RateBudgetExceeded');
    }
    expect((await twin.stats()).maxPerSecond).toBeLessThanOrEqual(20);
  });
});

describe('lookup by direct invocation (serverless-offline Lambda endpoint)', () => {
  const lambda = new LambdaClient({
    endpoint: stack.lambdaUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  afterAll(() => lambda.destroy());

  async function invoke(payload: unknown) {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'sms-status-dev-lookup', Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    return { error: out.FunctionError, body: JSON.parse(Buffer.from(out.Payload ?? []).toString() || 'null') };
  }

  it('returns the plain 200 body', async () => {
    const begin = now() - 6 * 24 * 3600;
    const truth = await twin.truth('+8613711112222', begin, now());
    const { error, body } = await invoke({ phoneNumber: '+8613711112222', beginTime: begin, all: true });
    expect(error).toBeUndefined();
    expect(body.statusCode).toBeUndefined();
    expect(body.complete).toBe(true);
    expect(body.statuses.map((s: any) => s.serialNo).sort()).toEqual(truth.map((s) => s.SerialNo).sort());
  });

  // serverless-offline reports every errorType as "Error"; the local Lambda edge restores the name
  // (local-edge.test.ts), and package.test.ts checks it on the packaged artifact as the runtime reports it.
  it('fails for bad input, with the code in the message', async () => {
    const { error, body } = await invoke({ phoneNumber: '13711112222' });
    expect(error).toBeDefined();
    expect(body.errorMessage).toContain('InvalidParameterValue.IncorrectPhoneNumber');
  });

  it('fails naming PhoneNumberInBlacklist and the RequestId for an opted-out number', async () => {
    const { error, body } = await invoke({ phoneNumber: '+8613900139000' });
    expect(error).toBeDefined();
    expect(body.errorMessage).toMatch(/FailedOperation\.PhoneNumberInBlacklist: .*\(RequestId [0-9a-f-]{36}\)/);
  });
});

describe('lookup with Tencent unreachable', () => {
  let down: Stack;
  // Tencent's address is held by a listener that drops every connection: a port merely left free could
  // be taken by another test's server meanwhile, and its answers are not Tencent being unreachable.
  const dropping = createServer((socket) => socket.destroy());
  beforeAll(async () => {
    const ports = await freePorts('http', 'lambda', 's3');
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    down = await startStack({
      ports: { ...ports, twin: 0 },
      env: {
        ...process.env,
        TENCENT_SMS_ENDPOINT: `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`,
        TENCENTCLOUD_SECRET_ID: 'AKIDdown',
        TENCENTCLOUD_SECRET_KEY: 'down',
        SMS_SDK_APP_ID: '1400000000',
      },
    });
  });
  afterAll(async () => {
    await down?.stop();
    dropping.close();
  });

  it('answers 200 from the lake (the stack has one), incomplete, with Tencent’s network error in sources; never a 500', async () => {
    const response = await fetch(`${down.offline.httpUrl}/dev/v1/phone-numbers/%2B8613711112222/statuses`, {
      headers: { 'x-api-key': down.apiKey },
    });
    const body = (await response.json()) as any;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.complete).toBe(false);
    expect(body.sources.map((s: { source: string }) => s.source)).toEqual(['tencent', 'lake']);
    expect(body.sources[0].error.code).toMatch(/ECONNREFUSED|ECONNRESET|RequestTimeout|NetworkError/);
  });
});

describe('function logs', () => {
  it('never contain the Tencent secret key or the Authorization header', async () => {
    const { readFile } = await import('node:fs/promises');
    await get('%2B8613711112222/statuses?limit=1');
    await get('%2B8613900139000/statuses');
    const log = await readFile(stack.logPath, 'utf8');
    expect(log).toContain('GET /dev/v1/phone-numbers');
    expect(log).not.toContain(stack.env.TENCENTCLOUD_SECRET_KEY);
    expect(log).not.toContain('TC3-HMAC-SHA256');
    expect(log.toLowerCase()).not.toContain('authorization:');
  });
});
