import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, loadCallbackConfig, loadInboxConfig } from '#lib/config.ts';
import { inboxPrefix } from '#lib/lake/layout.ts';
import { sameToken, tokenCheck } from '#lib/push/token.ts';
import { callbackHttp } from '../../../../functions/middleware/callback-http.ts';
import { memoryStore } from '../../../support/memory-store.ts';

const TOKEN = 'local-callback-0123456789abcdef0123456789abcdef';
const SETTINGS = { bucket: 'exports', prefix: 'sms-status', sdkAppId: '1400000000', utcOffsetMinutes: 480 };
const RECEIPT = {
  user_receive_time: '2024-05-01 10:03:04',
  nationcode: '86',
  mobile: '13711112222',
  report_status: 'SUCCESS',
  errmsg: 'DELIVRD',
  description: 'ok',
  sid: 'sid-1',
};

function event(body: string | null, token = TOKEN, isBase64Encoded = false): APIGatewayProxyEvent {
  return {
    body,
    isBase64Encoded,
    pathParameters: { token },
    httpMethod: 'POST',
    requestContext: {},
  } as unknown as APIGatewayProxyEvent;
}

function receiver(store = memoryStore()) {
  return { store, receive: callbackHttp({ store, settings: SETTINGS, checkToken: tokenCheck({ token: TOKEN }) }) };
}

describe('the callback receiver (HTTP adapter)', () => {
  it('stores a batch as one inbox object, then answers {"result":0,"errmsg":"OK"}', async () => {
    const { store, receive } = receiver();
    const answer = await receive(event(JSON.stringify([RECEIPT, { ...RECEIPT, sid: 'sid-2' }])));
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ result: 0, errmsg: 'OK' });
    const keys = store.keys('exports', inboxPrefix('sms-status'));
    expect(keys).toHaveLength(1);
    expect(store.lines('exports', keys[0] as string)).toHaveLength(2);
    expect((await receive(event(JSON.stringify([{ ...RECEIPT, sid: 'sid-2' }, RECEIPT])))).statusCode).toBe(200);
    expect(store.keys('exports', inboxPrefix('sms-status'))).toEqual(keys);
  });

  it('reads a base64 body as API Gateway passes binary ones', async () => {
    const { store, receive } = receiver();
    expect(
      (await receive(event(Buffer.from(JSON.stringify([RECEIPT])).toString('base64'), TOKEN, true))).statusCode,
    ).toBe(200);
    expect(store.keys('exports', inboxPrefix('sms-status'))).toHaveLength(1);
  });

  it('answers 403 to a wrong or missing token, and stores nothing', async () => {
    const { store, receive } = receiver();
    for (const token of ['wrong', '', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const answer = await receive(event(JSON.stringify([RECEIPT]), token));
      expect(answer.statusCode).toBe(403);
      expect(JSON.parse(answer.body)).toEqual({ result: 1, errmsg: 'forbidden' });
    }
    expect(store.writes).toEqual([]);
  });

  it.each<[string, string | null, string]>([
    ['no body', null, 'body'],
    ['not JSON', 'not json', 'body'],
    ['not an array', JSON.stringify(RECEIPT), 'body'],
    ['a missing field', JSON.stringify([RECEIPT, { ...RECEIPT, sid: undefined }]), '[1].sid'],
    ['a bad time', JSON.stringify([{ ...RECEIPT, user_receive_time: '2024-02-30 10:00:00' }]), '[0].user_receive_time'],
    ['a bad number', JSON.stringify([{ ...RECEIPT, mobile: '1' }]), '[0].mobile'],
    ['10 MB', `[${' '.repeat(10 * 1024 * 1024)}]`, 'body'],
  ])('answers 400 naming the field for %s, and stores nothing', async (_, body, field) => {
    const { store, receive } = receiver();
    const answer = await receive(event(body));
    expect(answer.statusCode).toBe(400);
    const parsed = JSON.parse(answer.body);
    expect(parsed.result).toBe(1);
    expect(parsed.errmsg.startsWith(field)).toBe(true);
    expect(store.writes).toEqual([]);
  });

  it('answers 503 when the inbox cannot be written, or the token cannot be read (the sender tries again)', async () => {
    const store = memoryStore();
    store.write = async () => {
      throw Object.assign(new Error('SlowDown'), { name: 'SlowDown' });
    };
    const answer = await callbackHttp({ store, settings: SETTINGS, checkToken: tokenCheck({ token: TOKEN }) })(
      event(JSON.stringify([RECEIPT])),
    );
    expect(answer.statusCode).toBe(503);
    expect(JSON.parse(answer.body).result).toBe(1);
    const unreadable = callbackHttp({
      store: memoryStore(),
      settings: SETTINGS,
      checkToken: async () => Promise.reject(new Error('AccessDenied')),
    });
    expect((await unreadable(event(JSON.stringify([RECEIPT])))).statusCode).toBe(503);
  });

  it('never answers anything but 200 or 400 to whatever a caller sends with the right token (fixed seed)', async () => {
    const { receive } = receiver();
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .array(
          fc.record({
            ...Object.fromEntries(
              Object.keys(RECEIPT).map((k) => [
                k,
                fc.oneof(fc.string(), fc.constant((RECEIPT as Record<string, string>)[k])),
              ]),
            ),
          }),
        )
        .map((a) => JSON.stringify(a)),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const answer = await receive(event(text));
        expect([200, 400]).toContain(answer.statusCode);
        expect(JSON.parse(answer.body).result).toBe(answer.statusCode === 200 ? 0 : 1);
      }),
      { seed: 20261127, numRuns: 300 },
    );
  });
});

describe('the callback token', () => {
  it('compares by hash in constant time', () => {
    expect(sameToken(TOKEN, TOKEN)).toBe(true);
    expect(sameToken(`${TOKEN} `, TOKEN)).toBe(false);
    expect(sameToken('', TOKEN)).toBe(false);
  });

  function fakeSecrets(values: Array<string | Error>): SecretsManagerClient & { calls: number } {
    const fake = {
      calls: 0,
      async send() {
        const value = values[Math.min(fake.calls, values.length - 1)] as string | Error;
        fake.calls += 1;
        if (value instanceof Error) throw value;
        return { SecretString: value };
      },
    };
    return fake as unknown as SecretsManagerClient & { calls: number };
  }

  it('reads a secret once and keeps it; a failed read is tried again on the next request', async () => {
    const client = fakeSecrets([new Error('throttled'), TOKEN]);
    const check = tokenCheck({ secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:cb' }, client);
    await expect(check(TOKEN)).rejects.toThrow('throttled');
    expect(await check(TOKEN)).toBe(true);
    expect(await check(TOKEN)).toBe(true);
    expect(await check('wrong')).toBe(false);
    expect(client.calls).toBe(2);
  });

  it('accepts {"token": …} and refuses a secret shorter than 32 characters', async () => {
    expect(
      await tokenCheck(
        { secretArn: 'arn:aws:secretsmanager:x' },
        fakeSecrets([JSON.stringify({ token: TOKEN })]),
      )(TOKEN),
    ).toBe(true);
    await expect(tokenCheck({ secretArn: 'arn:aws:secretsmanager:x' }, fakeSecrets(['short']))(TOKEN)).rejects.toThrow(
      ConfigError,
    );
  });

  it('picks up a rotated token after a mismatch, at most every 5 minutes', async () => {
    const rotated = `${TOKEN}-rotated`;
    let now = 0;
    const client = fakeSecrets([TOKEN, rotated]);
    const check = tokenCheck({ secretArn: 'arn:aws:secretsmanager:x' }, client, () => now);
    expect(await check(TOKEN)).toBe(true);
    expect(await check(rotated)).toBe(false);
    now += 5 * 60_000;
    expect(await check(rotated)).toBe(true);
    expect(client.calls).toBe(2);
  });
});

describe('loadCallbackConfig', () => {
  const env = { EXPORT_BUCKET: 'exports', SMS_SDK_APP_ID: '1400000000', SMS_STATUS_CALLBACK_TOKEN: TOKEN };

  it('reads the token, the offset (+08:00 by default) and where the inbox is', () => {
    expect(loadCallbackConfig(env)).toEqual({
      bucket: 'exports',
      prefix: 'sms-status',
      localS3: false,
      sdkAppId: '1400000000',
      token: { token: TOKEN },
      utcOffsetMinutes: 480,
    });
    expect(loadCallbackConfig({ ...env, TENCENT_CALLBACK_UTC_OFFSET: '-05:30' }).utcOffsetMinutes).toBe(-330);
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:callback';
    expect(
      loadCallbackConfig({ ...env, SMS_STATUS_CALLBACK_TOKEN: '', SMS_STATUS_CALLBACK_TOKEN_ARN: arn }).token,
    ).toEqual({ secretArn: arn });
  });

  it.each<[string, Record<string, string>, string]>([
    ['no token', { SMS_STATUS_CALLBACK_TOKEN: '' }, 'SMS_STATUS_CALLBACK_TOKEN'],
    ['a token under 32 characters', { SMS_STATUS_CALLBACK_TOKEN: 'x'.repeat(31) }, 'SMS_STATUS_CALLBACK_TOKEN'],
    ['a token with a slash', { SMS_STATUS_CALLBACK_TOKEN: `${'x'.repeat(32)}/y` }, 'SMS_STATUS_CALLBACK_TOKEN'],
    [
      'a token ARN that is not one',
      { SMS_STATUS_CALLBACK_TOKEN: '', SMS_STATUS_CALLBACK_TOKEN_ARN: 'callback' },
      'SMS_STATUS_CALLBACK_TOKEN_ARN',
    ],
    ['an offset without a sign', { TENCENT_CALLBACK_UTC_OFFSET: '08:00' }, 'TENCENT_CALLBACK_UTC_OFFSET'],
    ['an offset past 14 hours', { TENCENT_CALLBACK_UTC_OFFSET: '+15:00' }, 'TENCENT_CALLBACK_UTC_OFFSET'],
    ['an offset with 60 minutes', { TENCENT_CALLBACK_UTC_OFFSET: '+08:60' }, 'TENCENT_CALLBACK_UTC_OFFSET'],
    ['no app id', { SMS_SDK_APP_ID: '' }, 'SMS_SDK_APP_ID'],
  ])('fails the cold start on %s, naming the variable and never the token', (_, change, variable) => {
    let error: unknown;
    try {
      loadCallbackConfig({ ...env, ...change });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).not.toContain('x'.repeat(31));
  });

  it('gives the drain its bounds', () => {
    expect(loadInboxConfig({ EXPORT_BUCKET: 'exports', INBOX_MAX_OBJECTS: '500' })).toEqual({
      bucket: 'exports',
      prefix: 'sms-status',
      localS3: false,
      maxObjects: 500,
      maxRecords: 200_000,
      reserveMs: 60_000,
    });
    expect(() => loadInboxConfig({ EXPORT_BUCKET: 'exports', INBOX_MAX_OBJECTS: '0' })).toThrow(ConfigError);
  });
});

describe('the callback receiver when S3 is slow', () => {
  const batch = (i: number): string => JSON.stringify([{ ...RECEIPT, sid: `slow-${i}` }]);

  it('answers 503 {"result":1} by its deadline when the inbox write hangs, and tells the write to stop', async () => {
    const store = memoryStore();
    let aborted = false;
    store.write = (_bucket, _key, _body, options) =>
      new Promise((_resolve, reject) =>
        options?.signal?.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted')))),
      );
    const receive = callbackHttp({
      store,
      settings: SETTINGS,
      checkToken: tokenCheck({ token: TOKEN }),
      deadlineMs: 50,
    });
    const answer = await receive(event(batch(0)));
    expect(answer.statusCode).toBe(503);
    expect(JSON.parse(answer.body)).toEqual({ result: 1, errmsg: expect.stringContaining('send them again') });
    expect(aborted).toBe(true);
  });

  it('answers by its deadline even when the store ignores the abort', async () => {
    const store = memoryStore();
    store.write = () => new Promise(() => undefined);
    const receive = callbackHttp({
      store,
      settings: SETTINGS,
      checkToken: tokenCheck({ token: TOKEN }),
      deadlineMs: 50,
    });
    expect((await receive(event(batch(0)))).statusCode).toBe(503);
  });

  it('keeps its answer inside the invocation: the deadline shrinks to what is left, less a reserve', async () => {
    const store = memoryStore();
    store.write = () => new Promise(() => undefined);
    const receive = callbackHttp({ store, settings: SETTINGS, checkToken: tokenCheck({ token: TOKEN }) });
    const started = Date.now();
    const answer = await receive(event(batch(0)), { getRemainingTimeInMillis: () => 2100 } as never);
    expect(answer.statusCode).toBe(503);
    // 100 ms of deadline, not the default 5 s: generous bounds, as a busy machine may stretch timers.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('a token secret that never answers is a 503 too, by the deadline', async () => {
    const receive = callbackHttp({
      store: memoryStore(),
      settings: SETTINGS,
      checkToken: () => new Promise(() => undefined),
      deadlineMs: 50,
    });
    expect((await receive(event(batch(0)))).statusCode).toBe(503);
  });

  it('60 batches at once, every other write stalled: only 200 or 503, and every 200 is stored', async () => {
    const inner = memoryStore();
    let n = 0;
    const store = {
      ...inner,
      write: (...args: Parameters<typeof inner.write>) =>
        n++ % 2 === 0 ? inner.write(...args) : new Promise<never>(() => undefined),
    };
    const receive = callbackHttp({
      store,
      settings: SETTINGS,
      checkToken: tokenCheck({ token: TOKEN }),
      deadlineMs: 200,
    });
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => receive(event(batch(i)))));
    expect(new Set(answers.map((a) => a.statusCode))).toEqual(new Set([200, 503]));
    const stored = inner
      .keys('exports', inboxPrefix('sms-status'))
      .flatMap((key) => inner.lines<{ serialNo: string }>('exports', key).map((r) => r.serialNo));
    answers.forEach((a, i) => {
      if (a.statusCode === 200) expect(stored).toContain(`slow-${i}`);
    });
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(30);
  });
});
