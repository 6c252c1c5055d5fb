/**
 * The export function as Step Functions and `aws lambda invoke` call it: through serverless-offline's
 * Lambda endpoint on the shared stack, writing to the stack's s3rver, pulling from the stack's twin.
 */
import { gunzipSync } from 'node:zlib';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { groupOf } from '#lib/export/layout.ts';
import { utcDay } from '#lib/utc-day.ts';
import type { RunSummary, Window } from '#lib/export/types.ts';
import { s3ClientConfig } from '#lib/export/s3/s3-store.ts';
import type { ExportRecord } from '#lib/export/writer.ts';
import { byReceiveTime, fromTencent } from '#lib/status/record.ts';
import { twinControl } from '../support/twin-control.ts';

const stack = inject('stack');
const twin = twinControl(stack.twinUrl);
const PREFIX = stack.env.EXPORT_PREFIX || 'sms-status';
const DAY = 86_400;
const BUSY = '+8613800138000';
const OPTED_OUT = '+8613900139000';
/** Numbers no other test file exports, so what lies under the shared prefix for them is this file's doing. */
const NUMBERS = [BUSY, '+8613711112222', '+14155550123', '+8615000150000', OPTED_OUT, '+8613477770001', '+8613477770002', '+447700900123'];
const KEY = /\/statuses\/dt=(\d{4}-\d{2}-\d{2})\/part-(\d{2})\.jsonl\.gz$/;

const lambda = new LambdaClient({
  endpoint: stack.lambdaUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const s3 = new S3Client({
  ...s3ClientConfig({ local: true }),
  endpoint: stack.s3Url,
  region: stack.env.AWS_REGION || 'us-east-1',
  credentials: { accessKeyId: stack.env.AWS_ACCESS_KEY_ID ?? 'S3RVER', secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER' },
});
afterAll(() => {
  lambda.destroy();
  s3.destroy();
});

async function invoke(payload: unknown): Promise<{ error: string | undefined; body: any }> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'sms-status-dev-export', Payload: Buffer.from(JSON.stringify(payload)) }));
  return { error: out.FunctionError, body: JSON.parse(Buffer.from(out.Payload ?? []).toString() || 'null') };
}

async function readBack(): Promise<Array<{ key: string; records: ExportRecord[] }>> {
  const objects: Array<{ key: string; records: ExportRecord[] }> = [];
  let marker: string | undefined;
  // ListObjects (v1, paged by marker): s3rver's v2 continuation tokens need DES, which OpenSSL 3 refuses.
  for (;;) {
    const page = await s3.send(new ListObjectsCommand({ Bucket: stack.bucket, Prefix: `${PREFIX}/statuses/`, Marker: marker }));
    for (const { Key } of page.Contents ?? []) {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key }));
      const bytes = Buffer.from(await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      const records = gunzipSync(bytes).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ExportRecord);
      objects.push({ key: Key as string, records });
    }
    if (!page.IsTruncated) return objects;
    marker = page.Contents?.at(-1)?.Key;
  }
}

/** What the shared bucket holds for NUMBERS inside `window` is exactly the twin's truth, once each. */
async function expectExact(window: Window): Promise<number> {
  const objects = await readBack();
  const all = objects.flatMap((o) => o.records);
  const serials = all.map((r) => r.serialNo);
  expect(new Set(serials).size, 'no serialNo twice under the prefix').toBe(serials.length);
  for (const { key, records } of objects) {
    const [, day, part] = KEY.exec(key) ?? [];
    for (const record of records) {
      expect(utcDay(record.userReceiveTime), key).toBe(day);
      expect(groupOf(record.phoneNumber), key).toBe(Number(part));
    }
  }
  let total = 0;
  for (const number of NUMBERS) {
    const truth = (await twin.truth(number, window.beginTime, window.endTime))
      .map((s) => ({ ...fromTencent(s), sdkAppId: stack.env.SMS_SDK_APP_ID }))
      .sort(byReceiveTime);
    const got = all
      .filter((r) => r.phoneNumber === number && r.userReceiveTime >= window.beginTime && r.userReceiveTime <= window.endTime)
      .sort(byReceiveTime);
    expect(got, number).toEqual(truth);
    total += truth.length;
  }
  return total;
}

describe('export by direct invocation (serverless-offline Lambda endpoint)', () => {
  const endTime = Math.floor(Date.now() / 1000);
  const beginTime = endTime - 2 * DAY;
  let first: RunSummary;

  it('exports the numbers of the event and returns the run summary; the objects hold exactly the twin’s receipts', async () => {
    const { error, body } = await invoke({ phoneNumbers: NUMBERS, beginTime, endTime });
    expect(error, JSON.stringify(body)).toBeUndefined();
    first = body as RunSummary;
    expect(first).toMatchObject({
      complete: true,
      checkpointAdvanced: false,
      window: { beginTime, endTime },
      numbersTotal: NUMBERS.length,
      numbersDone: NUMBERS.length,
      incompleteNumbers: [],
      failures: [{ phoneNumber: OPTED_OUT, kind: 'rejected', code: 'FailedOperation.PhoneNumberInBlacklist' }],
    });
    let truth = 0;
    for (const n of NUMBERS) truth += (await twin.truth(n, beginTime, endTime)).length;
    expect(truth).toBeGreaterThan(600);
    expect(first.records).toBe(truth);
    expect(await expectExact({ beginTime, endTime })).toBe(truth);
  });

  it('invoked again for the same window, it leaves the same records without duplicates', async () => {
    expect(first, 'needs the first export').toBeDefined();
    const { error, body } = await invoke({ phoneNumbers: NUMBERS, beginTime, endTime });
    expect(error, JSON.stringify(body)).toBeUndefined();
    expect(body).toMatchObject({ complete: true, records: first.records, numbersDone: NUMBERS.length });
    expect(body.runId).not.toBe(first.runId);
    expect(await expectExact({ beginTime, endTime })).toBe(first.records);
  });

  it('fails with InvalidInput naming an unknown field', async () => {
    const { error, body } = await invoke({ phoneNumbers: [BUSY], beginTime, phoneNumber: BUSY });
    expect(error).toBeDefined();
    expect(body.errorMessage).toContain("unknown field 'phoneNumber'");
  });

  it('fails with InvalidInput naming the manifest for a bad or missing manifest URL', async () => {
    const bad = await invoke({ manifest: 'https://example.com/numbers.txt', beginTime });
    expect(bad.error).toBeDefined();
    expect(bad.body.errorMessage).toMatch(/manifest must be an s3:\/\/bucket\/key URL/);
    const missing = await invoke({ manifest: `s3://${stack.bucket}/no/such/manifest.txt`, beginTime });
    expect(missing.error).toBeDefined();
    expect(missing.body.errorMessage).toContain(`manifest s3://${stack.bucket}/no/such/manifest.txt does not exist`);
  });

  it('fails with InvalidInput for a window past Tencent’s 7 days, before any request', async () => {
    const before = await twin.stats();
    const { error, body } = await invoke({ phoneNumbers: [BUSY], beginTime: endTime - 8 * DAY });
    expect(error).toBeDefined();
    expect(body.errorMessage).toContain('InvalidParameterValue.BeginTimeVerifyFail');
    expect(body.errorMessage).toContain('beginTime');
    // Other files share this twin, so only check that this call added nothing of its own kind.
    expect((await twin.stats()).byCode['InvalidParameterValue.BeginTimeVerifyFail'] ?? 0).toBe(before.byCode['InvalidParameterValue.BeginTimeVerifyFail'] ?? 0);
  });
});
