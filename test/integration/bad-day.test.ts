/**
 * A bad day on the shared local stack (serverless-offline, the conditional local S3, the twin): a
 * redelivered old batch, and two inbox drains at once over a corrupt day object. Everything goes
 * through the deployed shapes: the callback over HTTP, the drain through the Lambda endpoint, the
 * lookup over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { mergeInto } from '#lib/lake/merge.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import type { DrainSummary } from '#lib/push/inbox.ts';
import { utcDay } from '#lib/utc-day.ts';
import { stackClients } from '../support/stack-clients.ts';

const stack = inject('stack');
const PREFIX = stack.env.EXPORT_PREFIX || 'sms-status';
const CALLBACK = `${stack.httpUrl}/dev/v1/callbacks/tencent/${stack.env.SMS_STATUS_CALLBACK_TOKEN as string}`;
const RUN = randomBytes(4).toString('hex');
const { lambda, s3 } = stackClients(stack);
const DAY = 86_400;

function beijing(seconds: number): string {
  return new Date((seconds + 8 * 3600) * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

function receipt(mobile: string, sid: string, at: number, status: 'SUCCESS' | 'FAIL') {
  const errmsg = status === 'SUCCESS' ? 'DELIVRD' : 'UNDELIV';
  return {
    user_receive_time: beijing(at),
    nationcode: '86',
    mobile,
    report_status: status,
    errmsg,
    description: errmsg,
    sid,
  };
}

async function push(batch: unknown[]): Promise<void> {
  const response = await fetch(CALLBACK, { method: 'POST', body: JSON.stringify(batch) });
  expect(await response.json()).toEqual({ result: 0, errmsg: 'OK' });
}

async function drain(): Promise<DrainSummary> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: 'sms-status-dev-inbox', Payload: Buffer.from('{}') }),
  );
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString() || 'null');
  expect(out.FunctionError, JSON.stringify(body)).toBeUndefined();
  return body as DrainSummary;
}

async function drainAll(): Promise<void> {
  for (let i = 0; i < 10 && (await drain()).remaining; i++);
}

async function lookup(
  phoneNumber: string,
  beginTime: number,
  endTime: number,
): Promise<{ statuses: Array<{ serialNo: string; reportStatus: string; userReceiveTime: number }> }> {
  const url = `${stack.httpUrl}/dev/v1/phone-numbers/${encodeURIComponent(phoneNumber)}/statuses?all=true&beginTime=${beginTime}&endTime=${endTime}`;
  const response = await fetch(url, { headers: { 'x-api-key': stack.apiKey } });
  expect(response.status).toBe(200);
  return (await response.json()) as never;
}

async function bytesOf(key: string): Promise<Buffer> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return Buffer.from(await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

async function keys(prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsCommand({ Bucket: stack.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((c) => c.Key as string);
}

describe('a redelivered old batch (callback → drain → lookup)', () => {
  it('leaves the later status in place', async () => {
    const mobile = '16700000001';
    const at = Math.floor(Date.now() / 1000) - 9 * DAY;
    const sid = `bad-day-${RUN}-1`;
    const first = [receipt(mobile, sid, at, 'FAIL')];
    await push(first);
    await drainAll();
    await push([receipt(mobile, sid, at + 300, 'SUCCESS')]);
    await drainAll();
    const window = [at - 60, at + 600] as const;
    expect((await lookup(`+86${mobile}`, ...window)).statuses).toMatchObject([
      { serialNo: sid, reportStatus: 'SUCCESS', userReceiveTime: at + 300 },
    ]);
    // Tencent sends the first batch again (its first answer timed out).
    await push(first);
    await drainAll();
    expect((await lookup(`+86${mobile}`, ...window)).statuses).toMatchObject([
      { serialNo: sid, reportStatus: 'SUCCESS', userReceiveTime: at + 300 },
    ]);
  });
});

describe('two inbox drains at once over a corrupt day object', () => {
  const TRIES = 8;
  it(`keeps the original bytes in _quarantine/ and rebuilds the object, in each of ${TRIES} tries`, async () => {
    for (let t = 0; t < TRIES; t++) {
      const mobile = `1670000${String(100 + t).padStart(4, '0')}`;
      const phoneNumber = `+86${mobile}`;
      const at = Math.floor(Date.now() / 1000) - (10 + t) * DAY;
      const key = objectKey(PREFIX, utcDay(at), groupOf(phoneNumber));
      const held: ExportRecord[] = Array.from({ length: 600 }, (_, i) => ({
        serialNo: `bad-day-${RUN}-held-${t}-${i}`,
        phoneNumber,
        countryCode: '86',
        subscriberNumber: mobile,
        reportStatus: 'SUCCESS',
        description: 'DELIVRD',
        userReceiveTime: at - 3600 + i,
        sdkAppId: stack.env.SMS_SDK_APP_ID as string,
      }));
      const whole = gzipSync(held.map((r) => `${JSON.stringify(r)}\n`).join(''));
      const corrupt = whole.subarray(0, Math.floor(whole.length * 0.8));
      await s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: corrupt }));
      const sid = `bad-day-${RUN}-pushed-${t}`;
      await push([receipt(mobile, sid, at, 'SUCCESS')]);
      const lag = Math.floor(Math.random() * 50);
      const summaries = await Promise.all([drain(), new Promise((resolve) => setTimeout(resolve, lag)).then(drain)]);
      await drainAll();
      const quarantined = await Promise.all(
        (await keys(`${PREFIX}/_quarantine/${key.slice(PREFIX.length + 1)}`)).map(bytesOf),
      );
      expect(
        quarantined.some((kept) => kept.equals(corrupt)),
        `try ${t} (lag ${lag} ms): the original bytes are in _quarantine/`,
      ).toBe(true);
      expect(
        quarantined.every((kept) => kept.equals(corrupt)),
        `try ${t}: nothing else was quarantined`,
      ).toBe(true);
      // Reported once at most (a drain of another test file may have met it first), rebuilt once.
      expect(
        summaries.flatMap((s) => s.corruptObjects.map((c) => c.key)).filter((k) => k === key).length,
      ).toBeLessThanOrEqual(1);
      const lines = gunzipSync(await bytesOf(key))
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ExportRecord);
      expect(lines.map((r) => r.serialNo)).toContain(sid);
      expect(new Set(lines.map((r) => r.serialNo)).size).toBe(lines.length);
    }
  }, 120_000);
});

describe('a window holding more than one answer may (HTTP)', () => {
  it('pages 15,000 receipts of one number through nextToken: each exactly once, no body over 5 MB', async () => {
    const phoneNumber = '+8616700009999';
    const begin = Math.floor(Date.now() / 1000) - 40 * DAY;
    const records: ExportRecord[] = Array.from({ length: 15_000 }, (_, i) => ({
      serialNo: `page-${RUN}-${String(i).padStart(5, '0')}`,
      phoneNumber,
      countryCode: '86',
      subscriberNumber: phoneNumber.slice(3),
      reportStatus: i % 7 === 0 ? 'FAIL' : 'SUCCESS',
      // Long carrier texts: 15,000 of them are ~8 MB of JSON, past Lambda's 6 MB answer.
      description: `${i % 7 === 0 ? 'UNDELIV' : 'DELIVRD'} ${'·'.repeat(150)}`,
      userReceiveTime: begin + i * 60,
      sdkAppId: stack.env.SMS_SDK_APP_ID as string,
    }));
    const store = s3Store({ local: true }, s3);
    const byKey = Map.groupBy(records, (r) => objectKey(PREFIX, utcDay(r.userReceiveTime), groupOf(phoneNumber)));
    for (const [key, list] of byKey) await mergeInto(store, stack.bucket, key, list);
    const window = `beginTime=${begin}&endTime=${begin + 15_000 * 60}&all=true`;
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const url = `${stack.httpUrl}/dev/v1/phone-numbers/${encodeURIComponent(phoneNumber)}/statuses?${window}${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ''}`;
      const response = await fetch(url, { headers: { 'x-api-key': stack.apiKey } });
      const text = await response.text();
      expect(response.status, text.slice(0, 300)).toBe(200);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(5 * 1024 * 1024);
      const body = JSON.parse(text) as { statuses: Array<{ serialNo: string }>; nextToken?: string; complete: boolean };
      seen.push(...body.statuses.map((s) => s.serialNo));
      nextToken = body.nextToken;
      pages += 1;
    } while (nextToken && pages < 20);
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual(records.map((r) => r.serialNo));
  }, 120_000);

  it('refuses a forged nextToken with a 400 naming nextToken', async () => {
    const url = `${stack.httpUrl}/dev/v1/phone-numbers/%2B8616700009999/statuses?all=true&nextToken=forged.token`;
    const response = await fetch(url, { headers: { 'x-api-key': stack.apiKey } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { field: string } }).error.field).toBe('nextToken');
  });
});
