/**
 * The twin pushes its receipts to a callback URL as Tencent does: the documented JSON array, in paced
 * batches, each batch re-sent until the receiver answers HTTP 200 with {"result": 0}.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '#lib/config.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { DEMO_NUMBERS, type NumberProfile } from '../../local/twin/data.ts';
import { pushOptionsFromEnv, twinOptionsFromEnv } from '../../local/twin/env.ts';
import type { CallbackReceipt } from '../../local/twin/push-format.ts';
import { startTwin, type PushStats, type Twin } from '../../local/twin/twin.ts';
import { twinPerTest } from '../support/twin-per-test.ts';
import { close, closedPort, listen, seconds } from '../support/net.ts';

const DAY = 24 * 3600;
const CN = '+8613711110001';
const US = '+14155550100';
const OLD = '+8613711110003';
const BULK = '+8613711110004';
const NUMBERS: Record<string, NumberProfile> = {
  [CN]: { count: 150, fromAgo: 3 * DAY, toAgo: 60, failRate: 0.3 },
  [US]: { count: 50, fromAgo: 6 * DAY, toAgo: 3600, failRate: 0.2 },
  // Older than Tencent's seven days: never in a default push.
  [OLD]: { count: 20, fromAgo: 9 * DAY, toAgo: 8 * DAY },
  [BULK]: { count: 2000, fromAgo: DAY, toAgo: 60, failRate: 0.05 },
};
const FIELDS = ['user_receive_time', 'nationcode', 'mobile', 'report_status', 'errmsg', 'description', 'sid'];

type Answer = 'ok' | '500' | 'result1' | 'garbage' | 'destroy' | 'hang';
interface Received {
  body: CallbackReceipt[];
  answer: Answer;
  at: number;
  contentType?: string;
}
interface Receiver {
  url: string;
  received: Received[];
}

const start = twinPerTest();
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => close(s)));
});

/** A loopback callback receiver that records every body and answers as `script` says for each request. */
async function receiver(script: (index: number) => Answer = () => 'ok'): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = script(received.length);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CallbackReceipt[];
      received.push({ body, answer, at: performance.now(), contentType: req.headers['content-type'] });
      if (answer === 'hang') return;
      if (answer === 'destroy') return req.socket.destroy();
      const [status, text] = {
        ok: [200, '{"result":0,"errmsg":"OK"}'],
        '500': [500, '{"result":0,"errmsg":"OK"}'],
        result1: [200, '{"result":1,"errmsg":"not stored"}'],
        garbage: [200, '<html>oops'],
      }[answer] as [number, string];
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(text);
    });
  });
  servers.push(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/v1/callbacks/tencent/token-of-the-test`, received };
}

/** The twin's receipts of these numbers in the last seven days, the default window. */
function truthOf(t: Twin, numbers: string[]): PullSmsSendStatus[] {
  const now = seconds(t.now());
  return numbers.flatMap((n) => t.truth(n, now - 7 * DAY, now));
}

const sidsOf = (received: Received[]): string[] => received.flatMap((r) => r.body.map((item) => item.sid));
const acked = (received: Received[]): Received[] => received.filter((r) => r.answer === 'ok');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** 'YYYY-MM-DD hh:mm:ss' at `offset` back to unix seconds. */
function unixOf(wall: string, offset: string): number {
  return Date.parse(`${wall.replace(' ', 'T')}${offset}`) / 1000;
}

describe('the twin pushes receipts as Tencent does', () => {
  it('sends each receipt once, in Tencent format, in receive-time order, in batches of at most batchSize', async () => {
    const t = await start({ numbers: NUMBERS });
    const r = await receiver();
    const job = t.push({ url: r.url, numbers: [CN, US, OLD], rate: 100_000, batchSize: 7 });
    const stats = await job.finished;
    const truth = truthOf(t, [CN, US]);
    expect(truth.length).toBe(200);
    expect(stats).toMatchObject({
      done: true,
      stopped: false,
      receipts: 200,
      acked: 200,
      batches: 29,
      requests: 29,
      retries: 0,
    });
    expect(r.received.every((b) => b.body.length <= 7 && b.contentType?.startsWith('application/json'))).toBe(true);
    expect(r.received.slice(0, -1).every((b) => b.body.length === 7)).toBe(true);
    const items = r.received.flatMap((b) => b.body);
    expect(items.map((i) => i.sid).sort()).toEqual(truth.map((s) => s.SerialNo).sort());
    const bySid = new Map(truth.map((s) => [s.SerialNo, s]));
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual([...FIELDS].sort());
      expect(Object.values(item).every((v) => typeof v === 'string')).toBe(true);
      const receipt = bySid.get(item.sid) as PullSmsSendStatus;
      expect(item.user_receive_time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(unixOf(item.user_receive_time, '+08:00')).toBe(receipt.UserReceiveTime);
      expect(`+${item.nationcode}${item.mobile}`).toBe(receipt.PhoneNumber);
      expect(item).toMatchObject({ report_status: receipt.ReportStatus, errmsg: receipt.Description });
      expect(item.description).not.toBe('');
    }
    expect(items.find((i) => i.nationcode === '1')?.mobile).toMatch(/^4155550100$/);
    const times = items.map((i) => unixOf(i.user_receive_time, '+08:00'));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('pushes the demo and configured numbers of the last seven days by default; a window and a zone narrow and shift it', async () => {
    const t = await start({ numbers: { [CN]: NUMBERS[CN] as NumberProfile } });
    const r = await receiver();
    const stats = await t.push({ url: r.url, rate: 1_000_000, batchSize: 1000, utcOffset: '-05:30' }).finished;
    const truth = truthOf(t, Object.keys({ ...DEMO_NUMBERS, [CN]: 0 }));
    expect(stats).toMatchObject({ done: true, receipts: truth.length, acked: truth.length });
    expect(new Set(sidsOf(r.received))).toEqual(new Set(truth.map((s) => s.SerialNo)));
    const first = r.received[0]?.body[0] as CallbackReceipt;
    expect(unixOf(first.user_receive_time, '-05:30')).toBe(
      truth.find((s) => s.SerialNo === first.sid)?.UserReceiveTime,
    );

    const now = seconds(t.now());
    const window = await receiver();
    await t.push({ url: window.url, numbers: [CN], beginTime: now - 2 * DAY, endTime: now - DAY, rate: 1_000_000 })
      .finished;
    expect(sidsOf(window.received).sort()).toEqual(
      t
        .truth(CN, now - 2 * DAY, now - DAY)
        .map((s) => s.SerialNo)
        .sort(),
    );
  });

  it('keeps to the rate: 2,000 receipts at 1,000/s take about two seconds, evenly spread', async () => {
    const t = await start({ numbers: NUMBERS });
    const r = await receiver();
    const began = performance.now();
    const stats = await t.push({ url: r.url, numbers: [BULK], rate: 1000, batchSize: 100 }).finished;
    const took = performance.now() - began;
    expect(stats).toMatchObject({ done: true, acked: 2000, batches: 20 });
    expect(took).toBeGreaterThanOrEqual(1800);
    expect(took).toBeLessThan(4000);
    // No second holds more than its 1,000 receipts (one batch of timer slack).
    for (const request of r.received) {
      const inSecond = r.received.filter((o) => o.at >= request.at && o.at < request.at + 1000);
      expect(inSecond.reduce((sum, o) => sum + o.body.length, 0)).toBeLessThanOrEqual(1100);
    }
  });

  it('re-sends a batch until the receiver acknowledges it: 500, result 1, garbage, a dropped socket, a timeout', async () => {
    const t = await start({ numbers: NUMBERS });
    const faults: Record<number, Answer> = {
      1: '500',
      3: 'result1',
      5: 'garbage',
      6: 'destroy',
      8: 'hang',
      9: 'destroy',
      10: '500',
    };
    const r = await receiver((i) => faults[i] ?? 'ok');
    const job = t.push({
      url: r.url,
      numbers: [CN, US],
      rate: 100_000,
      batchSize: 20,
      timeoutMs: 300,
      backoffMs: [10, 40],
    });
    const stats = await job.finished;
    const truth = truthOf(t, [CN, US]).map((s) => s.SerialNo);
    expect(stats).toMatchObject({ done: true, acked: 200, ackedBatches: 10, retries: 7, requests: 17 });
    expect(stats.lastError).toBeDefined();
    // Every receipt acknowledged exactly once; the other copies are the bodies of failed attempts,
    // each re-sent unchanged by the next request.
    expect(sidsOf(acked(r.received)).sort()).toEqual([...truth].sort());
    r.received.forEach((request, i) => {
      if (request.answer !== 'ok') expect(r.received[i + 1]?.body).toEqual(request.body);
    });
  });

  it('keeps retrying a receiver that is not there, with backoff, until stopped', async () => {
    const t = await start({ numbers: NUMBERS });
    const job = t.push({ url: `http://127.0.0.1:${await closedPort()}/cb`, numbers: [CN], backoffMs: [5, 20] });
    await until(() => job.stats().retries >= 3);
    expect(job.stats().lastError).toMatch(/connection failed/);
    job.stop();
    expect(await job.finished).toMatchObject({ done: false, stopped: true, acked: 0 });
  });

  it('stop() halts the push: no request after it', async () => {
    const t = await start({ numbers: NUMBERS });
    const r = await receiver();
    const job = t.push({ url: r.url, numbers: [CN], rate: 100, batchSize: 10 });
    await until(() => r.received.length >= 2);
    job.stop();
    const stats = await job.finished;
    expect(stats).toMatchObject({ done: false, stopped: true });
    const seen = r.received.length;
    await sleep(300);
    expect(r.received.length).toBe(seen);
    expect(job.stats().requests).toBe(stats.requests);
  });

  it('closing the twin stops its pushes', async () => {
    const t = await startTwin({ numbers: NUMBERS });
    const r = await receiver();
    const job = t.push({ url: r.url, numbers: [CN], rate: 100, batchSize: 10 });
    await until(() => r.received.length >= 1);
    await t.close();
    expect(await job.finished).toMatchObject({ stopped: true, done: false });
    const seen = r.received.length;
    await sleep(200);
    expect(r.received.length).toBe(seen);
  });
});

async function control(
  t: Twin,
  method: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${t.url}/_twin/push`, {
    method,
    body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(3000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('POST, GET and DELETE /_twin/push', () => {
  it('validates the body, naming the field', async () => {
    const t = await start({ numbers: NUMBERS });
    const url = 'http://127.0.0.1:1/cb';
    const cases: [unknown, RegExp][] = [
      ['not json', /JSON/],
      [[url], /object/],
      [{}, /^url/],
      [{ url: 'ftp://example.com/cb' }, /^url/],
      [{ url, rate: 0 }, /^rate/],
      [{ url, rate: '5' }, /^rate/],
      [{ url, batchSize: 2.5 }, /^batchSize/],
      [{ url, numbers: ['13711112222'] }, /^numbers/],
      [{ url, numbers: [] }, /^numbers/],
      [{ url, beginTime: 'yesterday' }, /^beginTime/],
      [{ url, beginTime: 200, endTime: 100 }, /beginTime/],
      [{ url, utcOffset: '+8' }, /^utcOffset/],
      [{ url, backoffMs: [50, 10] }, /^backoffMs/],
      [{ url, speed: 5 }, /^speed is not a push field/],
    ];
    for (const [body, message] of cases) {
      const { status, json } = await control(t, 'POST', body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error).toMatch(message);
    }
    expect(t.lastPush()).toBeUndefined();
    expect((await control(t, 'GET')).status).toBe(404);
    expect((await control(t, 'DELETE')).status).toBe(404);
    expect((await control(t, 'PUT', { url })).status).toBe(405);
  });

  it('starts a push, shows it, refuses a second while it runs, and stops it', async () => {
    const t = await start({ numbers: NUMBERS });
    const r = await receiver();
    const started = await control(t, 'POST', { url: r.url, numbers: [CN], rate: 100, batchSize: 10 });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ url: r.url, receipts: 150, batches: 15, done: false, stopped: false });
    await until(() => r.received.length >= 2);
    const shown = await control(t, 'GET');
    expect(shown.status).toBe(200);
    expect(shown.json.acked as number).toBeGreaterThanOrEqual(10);
    expect((await control(t, 'POST', { url: r.url })).status).toBe(409);
    const stopped = await control(t, 'DELETE');
    expect(stopped.json).toMatchObject({ stopped: true, done: false });
    const seen = r.received.length;
    await sleep(250);
    expect(r.received.length).toBe(seen);

    // Once stopped, another push may start; GET follows it to the end.
    const again = await receiver();
    expect((await control(t, 'POST', { url: again.url, numbers: [CN], rate: 100_000 })).status).toBe(202);
    await until(() => t.lastPush()?.stats().done === true);
    expect((await control(t, 'GET')).json).toMatchObject({ done: true, acked: 150, url: again.url });
  });
});

describe('pushing from the start', () => {
  it('a twin started with `push` pushes at once; a bad push option fails the start, naming it', async () => {
    const r = await receiver();
    const t = await start({ numbers: NUMBERS, push: { url: r.url, numbers: [US], rate: 100_000 } });
    const stats = (await t.lastPush()?.finished) as PushStats;
    expect(stats).toMatchObject({ done: true, acked: 50 });
    expect(sidsOf(r.received).sort()).toEqual(
      truthOf(t, [US])
        .map((s) => s.SerialNo)
        .sort(),
    );
    await expect(startTwin({ push: { url: r.url, rate: -1 } })).rejects.toThrow(/push\.rate/);
  });

  it('TWIN_PUSH_URL, TWIN_PUSH_RATE and TWIN_PUSH_BATCH become the push option', () => {
    expect(pushOptionsFromEnv({})).toBeUndefined();
    expect(twinOptionsFromEnv({}).push).toBeUndefined();
    const env = {
      TWIN_PUSH_URL: 'http://127.0.0.1:3000/v1/callbacks/tencent/t',
      TWIN_PUSH_RATE: '50',
      TWIN_PUSH_BATCH: '10',
    };
    expect(twinOptionsFromEnv(env).push).toEqual({ url: env.TWIN_PUSH_URL, rate: 50, batchSize: 10 });
    expect(pushOptionsFromEnv({ TWIN_PUSH_URL: env.TWIN_PUSH_URL })).toEqual({ url: env.TWIN_PUSH_URL });
    for (const [name, value] of [
      ['TWIN_PUSH_URL', 'nowhere'],
      ['TWIN_PUSH_RATE', '0'],
      ['TWIN_PUSH_BATCH', '1.5'],
    ]) {
      expect(() => pushOptionsFromEnv({ ...env, [name as string]: value })).toThrow(ConfigError);
      expect(() => pushOptionsFromEnv({ ...env, [name as string]: value })).toThrow(new RegExp(`^${name}`));
    }
  });
});
