/**
 * Tencent's status callback end to end on the shared local stack: POST through serverless-offline's API
 * Gateway into the S3 inbox (s3rver behind the conditional-write proxy), then the inbox function invoked
 * through serverless-offline's Lambda endpoint, and the lake read back.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsCommand } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import type { DrainSummary } from '#lib/push/inbox.ts';
import { utcDay } from '#lib/utc-day.ts';
import { readExport } from '../../local/read-export.ts';
import { stackClients } from '../support/stack-clients.ts';

const stack = inject('stack');
const PREFIX = stack.env.EXPORT_PREFIX || 'sms-status';
const TOKEN = stack.env.SMS_STATUS_CALLBACK_TOKEN as string;
const CALLBACK = `${stack.httpUrl}/dev/v1/callbacks/tencent`;
const RUN = randomBytes(4).toString('hex');
/** Numbers no other test uses (+86166…), so what the lake holds for them is this file's doing. */
const NUMBERS = ['16600000001', '16600000002', '16600000003'];

const { lambda, s3 } = stackClients(stack);

/** Beijing wall-clock time of unix seconds, as Tencent writes user_receive_time. */
function beijing(seconds: number): string {
  return new Date((seconds + 8 * 3600) * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

const NOW = Math.floor(Date.now() / 1000);
function receipt(i: number, at = NOW - 3600 - i, status = 'SUCCESS') {
  return {
    user_receive_time: beijing(at),
    nationcode: '86',
    mobile: NUMBERS[i % NUMBERS.length] as string,
    report_status: status,
    errmsg: status === 'SUCCESS' ? 'DELIVRD' : 'UNDELIV',
    description: status === 'SUCCESS' ? '用户短信送达成功' : '短信发送失败',
    sid: `cb-${RUN}-${i}`,
  };
}

/** Every answer of this file: none may be a 5xx. */
const statuses: number[] = [];

async function post(body: string, token = TOKEN): Promise<{ status: number; body: any }> {
  const response = await fetch(`${CALLBACK}/${token}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
  });
  statuses.push(response.status);
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectsCommand({ Bucket: stack.bucket, Prefix: prefix, Marker: marker }));
    keys.push(...(page.Contents ?? []).map((c) => c.Key as string));
    if (!page.IsTruncated) return keys;
    marker = keys.at(-1);
  }
}

async function lines(key: string): Promise<ExportRecord[]> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  const bytes = Buffer.from(await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  return gunzipSync(bytes)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ExportRecord);
}

async function drain(): Promise<DrainSummary> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: 'sms-status-dev-inbox', Payload: Buffer.from('{}') }),
  );
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString() || 'null');
  expect(out.FunctionError, JSON.stringify(body)).toBeUndefined();
  return body as DrainSummary;
}

/** This file's receipts in the lake, each checked to sit in its day and group's object. */
async function mine(): Promise<ExportRecord[]> {
  const found: ExportRecord[] = [];
  for (const { key, records } of await readExport(s3, stack.bucket, PREFIX)) {
    for (const r of records.filter((x) => x.serialNo.startsWith(`cb-${RUN}-`))) {
      expect(key).toBe(objectKey(PREFIX, utcDay(r.userReceiveTime), groupOf(r.phoneNumber)));
      found.push(r);
    }
  }
  return found.sort((a, b) => a.serialNo.localeCompare(b.serialNo));
}

describe('Tencent status callback (serverless-offline)', () => {
  const batch = [receipt(0), receipt(1), receipt(2, NOW - 86_400 - 10, 'FAIL'), receipt(3)];
  let inboxKey: string;

  it('stores a batch as one inbox object and answers {"result":0,"errmsg":"OK"}', async () => {
    const before = new Set(await listKeys(`${PREFIX}/_inbox/`));
    const answer = await post(JSON.stringify(batch));
    expect(answer).toEqual({ status: 200, body: { result: 0, errmsg: 'OK' } });
    const added = (await listKeys(`${PREFIX}/_inbox/`)).filter((k) => !before.has(k));
    expect(added).toHaveLength(1);
    inboxKey = added[0] as string;
    expect(inboxKey).toMatch(new RegExp(`^${PREFIX}/_inbox/\\d{4}-\\d{2}-\\d{2}T\\d{2}/[0-9a-f]{64}\\.jsonl\\.gz$`));
    expect((await lines(inboxKey)).map((r) => r.serialNo).sort()).toEqual(batch.map((r) => r.sid).sort());
  });

  it('stores a redelivered batch (in any order) once', async () => {
    expect((await post(JSON.stringify([...batch].reverse()))).status).toBe(200);
    expect((await listKeys(`${PREFIX}/_inbox/`)).filter((k) => k === inboxKey)).toHaveLength(1);
    expect((await listKeys(`${PREFIX}/_inbox/`)).length).toBeGreaterThanOrEqual(1);
  });

  const tooBig = `[${' '.repeat(10_000_000)}]`;
  it.each<[string, () => string, string]>([
    ['not JSON', () => 'user_receive_time=2015-10-17', 'body'],
    ['not an array', () => JSON.stringify(receipt(9)), 'body'],
    [
      'a missing field',
      () => JSON.stringify([receipt(9), { ...receipt(10), nationcode: undefined }]),
      '[1].nationcode',
    ],
    [
      'a bad time',
      () => JSON.stringify([{ ...receipt(9), user_receive_time: '2024-02-30 08:00:00' }]),
      '[0].user_receive_time',
    ],
    ['a bad number', () => JSON.stringify([{ ...receipt(9), mobile: '166abc' }]), '[0].mobile'],
    ['a 10 MB body', () => tooBig, 'body'],
  ])('answers 400 with result 1 to %s, naming the field, and stores nothing', async (_, body, field) => {
    const before = await listKeys(`${PREFIX}/_inbox/`);
    const answer = await post(body());
    expect(answer.status).toBe(400);
    expect(answer.body.result).toBe(1);
    expect(answer.body.errmsg).toMatch(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')} `));
    expect(await listKeys(`${PREFIX}/_inbox/`)).toEqual(before);
  });

  it('answers 403 to a wrong token, and stores nothing', async () => {
    const before = await listKeys(`${PREFIX}/_inbox/`);
    for (const token of ['wrong', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      expect(await post(JSON.stringify([receipt(20)]), token)).toEqual({
        status: 403,
        body: { result: 1, errmsg: 'forbidden' },
      });
    }
    expect(await listKeys(`${PREFIX}/_inbox/`)).toEqual(before);
  });

  it('the inbox function merges the inbox into the lake and empties it', async () => {
    const summary = await drain();
    expect(summary.objects).toBeGreaterThanOrEqual(1);
    expect(summary.remaining).toBe(false);
    expect(await listKeys(`${PREFIX}/_inbox/`)).not.toContain(inboxKey);
    const got = await mine();
    expect(got.map((r) => r.serialNo)).toEqual(batch.map((r) => r.sid).sort());
    const failed = got.find((r) => r.serialNo === batch[2]?.sid);
    expect(failed).toMatchObject({
      phoneNumber: `+86${batch[2]?.mobile}`,
      countryCode: '86',
      subscriberNumber: batch[2]?.mobile,
      reportStatus: 'FAIL',
      description: 'UNDELIV',
      userReceiveTime: NOW - 86_400 - 10,
      sdkAppId: stack.env.SMS_SDK_APP_ID,
    });
  });

  it('a batch redelivered after the drain is merged again and changes nothing', async () => {
    const before = await mine();
    expect((await post(JSON.stringify(batch))).status).toBe(200);
    expect(await listKeys(`${PREFIX}/_inbox/`)).toContain(inboxKey);
    await drain();
    expect(await mine()).toEqual(before);
    expect(await listKeys(`${PREFIX}/_inbox/`)).not.toContain(inboxKey);
  });

  it('drains 10,000 receipts in 20 callbacks into their day objects', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      ...receipt(1000 + i, NOW - 2 * 86_400 + i * 17),
      mobile: `166${String(10_000_000 + (i % 2000)).slice(-8)}`,
    }));
    for (let i = 0; i < many.length; i += 500)
      expect((await post(JSON.stringify(many.slice(i, i + 500)))).status).toBe(200);
    const summary = await drain();
    expect(summary).toMatchObject({ objects: 20, records: 10_000, remaining: false, quarantined: 0 });
    expect((await mine()).length).toBe(10_000 + batch.length);
  }, 120_000);

  it('logged no full number and no token', async () => {
    const { readFile } = await import('node:fs/promises');
    const log = await readFile(stack.logPath, 'utf8');
    expect(log).toContain('callback stored');
    for (const number of NUMBERS) expect(log).not.toContain(number);
    expect(log).not.toMatch(/"token":"local-callback/);
  });

  it('never answered a 5xx', () => {
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });
});
