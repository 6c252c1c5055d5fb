/**
 * Lookups past Tencent's 7 days against the local stack: the lake's day objects for days 8–20 back are
 * written here with the export's writer into the local S3, the twin holds the number's recent receipts,
 * and one GET answers both, saying which part came from where.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { mergeInto } from '#lib/lake/merge.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import type { LookupResult } from '#lib/status/lookup.ts';
import { byReceiveTime, type StatusRecord } from '#lib/receipt.ts';
import { fromTencent } from '#lib/status/from-tencent.ts';
import { utcDay } from '#lib/utc-day.ts';
import { fnv1a } from '../../local/twin/fnv1a.ts';
import { twinControl } from '../support/twin-control.ts';

const stack = inject('stack');
const twin = twinControl(stack.twinUrl);
const api = `${stack.httpUrl}/dev/v1/phone-numbers`;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAY = 86_400;
const PREFIX = stack.env.EXPORT_PREFIX || 'sms-status';
const APP = stack.env.SMS_SDK_APP_ID as string;
const now = (): number => Math.floor(Date.now() / 1000);

/** A number nobody else's test uses, with several receipts in the twin (its default profile: fnv1a % 13 over 6 days). */
const PHONE = Array.from({ length: 1000 }, (_, i) => `+86137246${String(i).padStart(5, '0')}`).find(
  (n) => fnv1a(n) % 13 >= 6,
) as string;
/** Shares PHONE's day objects: its lines must never come back. */
const NEIGHBOUR = Array.from({ length: 100_000 }, (_, i) => `+86159${String(i).padStart(8, '0')}`).find(
  (n) => groupOf(n) === groupOf(PHONE),
) as string;

let s3: S3Client;
/** PHONE's receipts written to the lake, days 8–21 back (the 21st lies outside the windows asked for). */
const lake: ExportRecord[] = [];

function receipt(phoneNumber: string, serialNo: string, userReceiveTime: number): ExportRecord {
  return {
    serialNo,
    phoneNumber,
    countryCode: '86',
    subscriberNumber: phoneNumber.slice(3),
    reportStatus: 'SUCCESS',
    description: 'DELIVRD',
    userReceiveTime,
    sdkAppId: APP,
  };
}

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${api}/${path}`, { headers: { 'x-api-key': stack.apiKey } });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  s3 = new S3Client({
    ...s3ClientConfig({ local: true }),
    endpoint: stack.s3Url,
    region: 'us-east-1',
    credentials: {
      accessKeyId: stack.env.AWS_ACCESS_KEY_ID as string,
      secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY as string,
    },
  });
  const store = s3Store({ local: true }, s3);
  const anchor = now();
  for (let ago = 8; ago <= 21; ago++) {
    const day = [0, 1].map((k) => receipt(PHONE, `2433:lake-${ago}-${k}`, anchor - ago * DAY + k * 3600));
    lake.push(...day);
    const byKey = new Map<string, ExportRecord[]>();
    for (const record of [...day, receipt(NEIGHBOUR, `2433:neighbour-${ago}`, anchor - ago * DAY + 60)]) {
      const key = objectKey(PREFIX, utcDay(record.userReceiveTime), groupOf(record.phoneNumber));
      byKey.set(key, [...(byKey.get(key) ?? []), record]);
    }
    for (const [key, records] of byKey) await mergeInto(store, stack.bucket, key, records);
  }
});
afterAll(() => s3?.destroy());

function statusOf({ sdkAppId: _app, ...record }: ExportRecord): StatusRecord {
  return record;
}

describe('lookups past Tencent’s 7 days, from the lake (local stack)', () => {
  it('answers the lake’s part older than the edge and the twin’s recent part in one sorted answer, with sources', async () => {
    const begin = now() - 20 * DAY;
    const recent = (await twin.truth(PHONE, begin, now())).map(fromTencent);
    expect(recent.length).toBeGreaterThanOrEqual(6);
    const { status, body } = await get(`${encodeURIComponent(PHONE)}/statuses?beginTime=${begin}&all=true`);
    expect(status, JSON.stringify(body)).toBe(200);
    const fromLake = lake.filter((r) => r.userReceiveTime >= begin).map(statusOf);
    expect(fromLake.length).toBeGreaterThanOrEqual(24);
    expect(body.statuses).toEqual([...fromLake, ...recent].sort(byReceiveTime));
    expect(body.complete).toBe(true);
    const [older, newer] = body.sources as LookupResult['sources'];
    expect(body.sources).toHaveLength(2);
    expect(older).toMatchObject({ source: 'lake', beginTime: begin, complete: true });
    expect(newer).toMatchObject({
      source: 'tencent',
      beginTime: (older?.endTime as number) + 1,
      endTime: body.endTime,
      complete: true,
    });
    // The seam sits at Tencent's edge (7 days less the 5-minute margin), a minute inside it.
    expect(Math.abs((newer?.beginTime as number) - (body.endTime - 7 * DAY + 360))).toBeLessThanOrEqual(5);
    expect(body.statuses.map((s: StatusRecord) => s.phoneNumber)).not.toContain(NEIGHBOUR);
  });

  it('serialNo= returns the one receipt, from the lake or from the twin', async () => {
    const begin = now() - 20 * DAY;
    const fromTwin = (await twin.truth(PHONE, begin, now()))[0]?.SerialNo as string;
    for (const serialNo of ['2433:lake-12-1', fromTwin]) {
      const { status, body } = await get(
        `${encodeURIComponent(PHONE)}/statuses?beginTime=${begin}&all=true&serialNo=${encodeURIComponent(serialNo)}`,
      );
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.statuses.map((s: StatusRecord) => s.serialNo)).toEqual([serialNo]);
    }
  });

  it('a window the lake holds nothing of the number for is answered, but not complete', async () => {
    const { status, body } = await get(
      `%2B8618812345678/statuses?beginTime=${now() - 15 * DAY}&endTime=${now() - 10 * DAY}`,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.sources).toEqual([
      { source: 'lake', beginTime: body.beginTime, endTime: body.endTime, complete: false },
    ]);
    expect(body.complete).toBe(false);
    expect(body.requestIds).toEqual([]);
  });

  it('answers 400 naming beginTime past the retention, and past the lake days one lookup may read', async () => {
    for (const ago of [401 * DAY, 110 * DAY]) {
      const { status, body } = await get(`${encodeURIComponent(PHONE)}/statuses?beginTime=${now() - ago}`);
      expect(status).toBe(400);
      expect(body.error.field).toBe('beginTime');
      expect(body.error.message).toContain('beginTime');
    }
    expect(
      (await get(`${encodeURIComponent(PHONE)}/statuses?beginTime=${now() - 110 * DAY}`)).body.error.message,
    ).toContain('93');
    const long = await get(`${encodeURIComponent(PHONE)}/statuses?serialNo=${'x'.repeat(65)}`);
    expect(long.status).toBe(400);
    expect(long.body.error.field).toBe('serialNo');
  });

  it('the CLI reads the same lake (AWS_ENDPOINT_URL_S3) with --serial-no', async () => {
    const child = spawn(
      process.execPath,
      [
        'cli/sms-status.js',
        'lookup',
        PHONE,
        '--begin',
        String(now() - 20 * DAY),
        '--all',
        '--serial-no',
        '2433:lake-9-0',
      ],
      {
        cwd: ROOT,
        env: { ...stack.env, PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = await once(child, 'close');
    expect(code, stderr).toBe(0);
    const body = JSON.parse(stdout) as LookupResult;
    expect(body.statuses).toEqual([statusOf(lake.find((r) => r.serialNo === '2433:lake-9-0') as ExportRecord)]);
    expect(body.sources.map((s) => [s.source, s.complete])).toEqual([
      ['lake', true],
      ['tencent', true],
    ]);
  });
});
