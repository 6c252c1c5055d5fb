/**
 * The twin's own knobs over real HTTP: control endpoints (/_twin/*) and start options (latency, random
 * faults, per-number profiles).
 */
import { describe, expect, it } from 'vitest';
import { twinPerTest } from '../support/twin-per-test.ts';
import { createClient, type PullRequest, type TencentClient } from '#lib/tencent/client.ts';
import { staticCredentials } from '#lib/tencent/credentials.ts';
import { SmsStatusError } from '#lib/errors.ts';
import { type Twin, type TwinStats } from '../../local/twin/twin.ts';
import { rejection, seconds } from '../support/net.ts';

const ORDINARY = '+8613711112222';

const start = twinPerTest();

function client(t: Twin): TencentClient {
  return createClient({
    endpoint: t.url,
    region: 'ap-guangzhou',
    sdkAppId: t.sdkAppId,
    credentials: staticCredentials(t.credentials),
    timeoutMs: 3000,
  });
}

function lastHour(t: Twin, phoneNumber = ORDINARY): PullRequest {
  const now = seconds(t.now());
  return { phoneNumber, beginTime: now - 3600, endTime: now, limit: 100 };
}

async function control(
  t: Twin,
  path: string,
  body?: string,
  timeoutMs = 3000,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${t.url}${path}`, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

describe('twin control endpoints', () => {
  it('/_twin/stats and /_twin/reset report and clear what twin.stats() holds', async () => {
    const t = await start();
    await client(t).pull(lastHour(t));
    await rejection(() => client(t).pull(lastHour(t, '+8613900139000')));
    const { status, json } = await control(t, '/_twin/stats');
    expect(status).toBe(200);
    expect(json).toEqual(t.stats());
    expect(json).toMatchObject({ received: 2, accepted: 2, throttled: 0, faults: 0 });
    const reset = await control(t, '/_twin/reset');
    expect((reset.json as TwinStats).received).toBe(0);
    expect(t.stats().received).toBe(0);
  });

  it('stats count error answers under their code, not as ok', async () => {
    const t = await start({ rateLimit: 3 });
    await client(t).pull(lastHour(t));
    await rejection(() => client(t).pull(lastHour(t, '+8613900139000')));
    t.configure({ faults: { script: ['internalTimeout'] } });
    await rejection(() => client(t).pull(lastHour(t)));
    await rejection(() => client(t).pull(lastHour(t)));
    expect(t.stats()).toMatchObject({
      received: 4,
      accepted: 3,
      throttled: 1,
      faults: 1,
      ok: 1,
      byCode: {
        OK: 1,
        'FailedOperation.PhoneNumberInBlacklist': 1,
        'InternalError.Timeout': 1,
        RequestLimitExceeded: 1,
      },
    });
  });

  it('control requests are not API requests: no rate limit, not counted', async () => {
    const t = await start({ rateLimit: 1 });
    for (let i = 0; i < 5; i++) expect((await control(t, '/_twin/stats')).status).toBe(200);
    expect(t.stats().received).toBe(0);
  });

  it('/_twin/truth equals twin.truth()', async () => {
    const t = await start();
    const now = seconds(t.now());
    const begin = now - 7 * 24 * 3600;
    const { json } = await control(
      t,
      `/_twin/truth?phoneNumber=${encodeURIComponent(ORDINARY)}&beginTime=${begin}&endTime=${now}`,
    );
    expect(json).toEqual(t.truth(ORDINARY, begin, now));
    expect((json as unknown[]).length).toBe(40);
  });

  it('/_twin/configure scripts faults over HTTP', async () => {
    const t = await start();
    const { status } = await control(
      t,
      '/_twin/configure',
      JSON.stringify({ faults: { script: [{ code: 'ServiceUnavailable' }] } }),
    );
    expect(status).toBe(200);
    const error = await rejection(() => client(t).pull(lastHour(t)));
    expect(error).toMatchObject({ name: 'UpstreamUnavailable', code: 'ServiceUnavailable' });
    await expect(client(t).pull(lastHour(t))).resolves.toHaveProperty('statuses');
    expect(t.stats().faults).toBe(1);
  });

  it('an unknown control path is 404', async () => {
    const t = await start();
    expect((await control(t, '/_twin/nope')).status).toBe(404);
  });

  it('a /_twin/configure body that is not JSON is refused, and the twin keeps running', async () => {
    const t = await start();
    const answer = await control(t, '/_twin/configure', 'not json', 1000).catch((error: unknown) => ({
      status: 0,
      json: String(error),
    }));
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect((await control(t, '/_twin/stats')).status).toBe(200);
  });
});

describe('twin start options', () => {
  it('latencyMs delays every answer', async () => {
    const t = await start({ latencyMs: 150 });
    const started = performance.now();
    await client(t).pull(lastHour(t));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('faults.rate 1 with one kind: every request gets that fault', async () => {
    const t = await start({ faults: { rate: 1, kinds: ['internalTimeout'] } });
    for (let i = 0; i < 3; i++) {
      const error = await rejection(() => client(t).pull(lastHour(t)));
      expect(error).toBeInstanceOf(SmsStatusError);
      expect(error).toMatchObject({ code: 'InternalError.Timeout' });
    }
    expect(t.stats()).toMatchObject({ received: 3, accepted: 3, faults: 3 });
  });

  it('faults.rate 0.5: roughly half the requests fail, the rest succeed', async () => {
    const t = await start({ faults: { rate: 0.5, kinds: ['http5xx'] }, rateLimit: 1000 });
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => client(t).pull(lastHour(t))));
    const failed = results.filter((r) => r.status === 'rejected').length;
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(35);
    expect(t.stats().faults).toBe(failed);
  });

  it('perNumber and numbers set the receipts of numbers', async () => {
    const t = await start({
      perNumber: 3,
      numbers: { '+447700900123': { count: 7, fromAgo: 7200, toAgo: 3600 } },
    });
    const now = seconds(t.now());
    const week = { beginTime: now - 7 * 24 * 3600 + 60, endTime: now, limit: 100 };
    expect((await client(t).pull({ ...week, phoneNumber: '+8613012345678' })).statuses).toHaveLength(3);
    const custom = await client(t).pull({ ...week, phoneNumber: '+447700900123' });
    expect(custom.statuses).toHaveLength(7);
    expect(custom.statuses.every((s) => s.CountryCode === '44' && s.SubscriberNumber === '7700900123')).toBe(true);
  });
});
