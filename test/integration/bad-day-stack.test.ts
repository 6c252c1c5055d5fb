/**
 * A bad day, through serverless-offline: a stack of its own whose functions reach the shared local S3
 * through a proxy that stalls a third of the inbox writes past the callback's 10 s timeout, and whose
 * Tencent endpoint is a closed port.
 * - The callback: every answer is 200 {"result":0} or 503 {"result":1}, never the platform's 502/504,
 *   and every acknowledged receipt reaches the lake.
 * - A lookup: Tencent down, the lake up: 200 with the lake's receipts, complete: false, Tencent's part
 *   carrying its error; a direct invocation still throws UpstreamUnavailable.
 */
import { randomBytes } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import { utcDay } from '#lib/utc-day.ts';
import { startOffline, type Offline } from '../../local/offline.ts';
import { exportedLines, readObject } from '../../local/read-export.ts';
import { freePorts } from '../support/ports.ts';
import { stackClients } from '../support/stack-clients.ts';
import { closedPort } from '../support/net.ts';
import { stallingProxy, type StallingProxy } from '../support/stalling-proxy.ts';

const stack = inject('stack');
const PREFIX = stack.env.EXPORT_PREFIX || 'sms-status';
const TOKEN = stack.env.SMS_STATUS_CALLBACK_TOKEN as string;
const RUN = randomBytes(4).toString('hex');
const { lambda, s3 } = stackClients(stack);
const BATCHES = 60;

let proxy: StallingProxy;
let offline: Offline;

beforeAll(async () => {
  let puts = 0;
  proxy = await stallingProxy(
    stack.s3Url,
    (req) => req.method === 'PUT' && (req.url ?? '').includes('/_inbox/') && puts++ % 3 === 0,
    15_000,
  );
  const ports = await freePorts('http', 'lambda');
  const tencent = `http://127.0.0.1:${await closedPort()}`;
  offline = await startOffline({
    httpPort: ports.http,
    lambdaPort: ports.lambda,
    env: { ...stack.env, AWS_ENDPOINT_URL_S3: proxy.url, TENCENT_SMS_ENDPOINT: tencent },
  });
}, 180_000);

afterAll(async () => {
  await offline?.stop();
  await proxy?.close();
});

function beijing(seconds: number): string {
  return new Date((seconds + 8 * 3600) * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

const at = Math.floor(Date.now() / 1000) - 7200;
const mobile = (i: number): string => `1680000${String(i).padStart(4, '0')}`;
const receipt = (i: number) => ({
  user_receive_time: beijing(at + i),
  nationcode: '86',
  mobile: mobile(i),
  report_status: 'SUCCESS',
  errmsg: 'DELIVRD',
  description: 'ok',
  sid: `slow-${RUN}-${i}`,
});

describe('the callback with a stalled S3 (serverless-offline)', () => {
  it(`answers ${BATCHES} batches at once with 200 or 503 only, and every 200 reaches the lake`, async () => {
    const answers = await Promise.all(
      Array.from({ length: BATCHES }, async (_, i) => {
        const response = await fetch(`${offline.httpUrl}/dev/v1/callbacks/tencent/${TOKEN}`, {
          method: 'POST',
          body: JSON.stringify([receipt(i)]),
        });
        return { i, status: response.status, body: await response.text() };
      }),
    );
    const unexpected = answers.filter(
      (a) =>
        !(a.status === 200 && a.body === '{"result":0,"errmsg":"OK"}') &&
        !(a.status === 503 && JSON.parse(a.body).result === 1),
    );
    expect(unexpected, JSON.stringify(unexpected.slice(0, 3))).toEqual([]);
    expect(proxy.held()).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(proxy.held());
    // Drain the inbox (the shared stack's function, straight to S3) and read each acknowledged receipt back.
    for (let round = 0; round < 10; round++) {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: 'sms-status-dev-inbox', Payload: Buffer.from('{}') }),
      );
      if (!JSON.parse(Buffer.from(out.Payload ?? []).toString()).remaining) break;
    }
    for (const { i } of answers.filter((a) => a.status === 200)) {
      const key = objectKey(PREFIX, utcDay(at + i), groupOf(`+86${mobile(i)}`));
      expect(exportedLines(await readObject(s3, stack.bucket, key)).map((r) => r.serialNo)).toContain(
        `slow-${RUN}-${i}`,
      );
    }
  }, 120_000);
});

describe('a lookup with Tencent down and the lake up (serverless-offline)', () => {
  const mobile = '16900000001';
  const pushedAt = Math.floor(Date.now() / 1000) - 3 * 3600;
  const pushed = [0, 1, 2].map((i) => ({
    ...receipt(9000 + i),
    mobile,
    sid: `down-${RUN}-${i}`,
    user_receive_time: beijing(pushedAt + i),
  }));

  beforeAll(async () => {
    // Pushed through the shared stack (its S3 is not stalled), and drained into the lake.
    const response = await fetch(`${stack.httpUrl}/dev/v1/callbacks/tencent/${TOKEN}`, {
      method: 'POST',
      body: JSON.stringify(pushed),
    });
    expect(response.status).toBe(200);
    for (let round = 0; round < 10; round++) {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: 'sms-status-dev-inbox', Payload: Buffer.from('{}') }),
      );
      if (!JSON.parse(Buffer.from(out.Payload ?? []).toString()).remaining) break;
    }
  });

  it('answers 200 over HTTP with the pushed receipts, complete: false, and Tencent’s error in sources', async () => {
    const url = `${offline.httpUrl}/dev/v1/phone-numbers/%2B86${mobile}/statuses?beginTime=${pushedAt - 3600}`;
    const response = await fetch(url, { headers: { 'x-api-key': stack.apiKey } });
    const body = (await response.json()) as {
      complete: boolean;
      statuses: Array<{ serialNo: string }>;
      sources: Array<{ source: string; error?: { code: string } }>;
    };
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.statuses.map((s) => s.serialNo)).toEqual(pushed.map((p) => p.sid));
    expect(body.complete).toBe(false);
    expect(body.sources.map((s) => s.source)).toEqual(['tencent', 'lake']);
    expect(body.sources[0]?.error?.code).toBeTruthy();
  });

  it('still throws to a direct invocation, so a workflow retries', async () => {
    const direct = new LambdaClient({
      endpoint: offline.lambdaUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const out = await direct.send(
        new InvokeCommand({
          FunctionName: 'sms-status-dev-lookup',
          Payload: Buffer.from(JSON.stringify({ phoneNumber: `+86${mobile}`, beginTime: pushedAt - 3600 })),
        }),
      );
      expect(out.FunctionError).toBeDefined();
      expect(Buffer.from(out.Payload ?? []).toString()).toContain('UpstreamUnavailable');
    } finally {
      direct.destroy();
    }
  });
});
