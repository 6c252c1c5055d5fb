import { S3Client } from '@aws-sdk/client-s3';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { mergeInto } from '#lib/lake/merge.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { utcDay } from '#lib/utc-day.ts';
import { startInboxDrain } from '../local/inbox-drain.ts';
import { listKeys } from '../local/read-export.ts';
import { startStack, type Stack } from '../local/stack.ts';
import type { NumberProfile } from '../local/twin/data.ts';
import { freePorts } from '../test/support/ports.ts';
import { median } from './cold-start.ts';

const HOUR = 3600;
const DAY = 86_400;

export interface PushFigures {
  receipts: number;
  /** Receipts acknowledged per second by the receiver, one batch of 100 in flight (as the twin sends). */
  ackedPerSecond: number;
  /** The same with several senders at once. */
  parallel: { senders: number; ackedPerSecond: number };
  /** One drain of everything pushed: seconds, and lake objects merged into. */
  drainSeconds: number;
  /** History lookups (all=true) through the HTTP API: window → median ms over runs. */
  history: Array<{ days: number; lakeDays: number; medianMs: number; statuses: number }>;
}

/** The stack's functions publish delivery events to its EventBridge stand-in, unless `events` is false. */
async function localStack(numbers: Record<string, NumberProfile>, events = true): Promise<Stack> {
  const ports = await freePorts('http', 'lambda', 's3', 'twin');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EXPORT_SCHEDULE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    EVENTS_ENABLED: String(events),
  };
  for (const name of [
    'TENCENT_SMS_ENDPOINT',
    'TENCENTCLOUD_SECRET_ID',
    'TENCENTCLOUD_SECRET_KEY',
    'SMS_SDK_APP_ID',
    'TWIN_PUSH_URL',
    'AWS_ENDPOINT_URL_EVENTBRIDGE',
    'EVENT_BUS_NAME',
  ])
    delete env[name];
  return startStack({ ports, env, twin: { numbers } });
}

export interface IngestionFigures {
  events: boolean;
  receipts: number;
  /** Receipts acknowledged per second by the receiver, several senders at once. */
  ackedPerSecond: number;
  senders: number;
  /** Drains until the inbox is empty: seconds. */
  drainSeconds: number;
  /** Delivery events the stack's EventBridge stand-in accepted (0 with events off). */
  eventsPublished: number;
}

/** The 100 numbers the twin pushes for, 100 receipts each over the last two days. */
const PUSHED_NUMBERS = Array.from({ length: 100 }, (_, i) => `+86139${String(20_000_000 + i)}`);
const PUSHED_PROFILE: NumberProfile = { count: 100, fromAgo: 48 * HOUR, toAgo: HOUR };

/** An S3 client of a benchmark stack's local S3. */
function lakeClient(stack: { s3: { url: string; credentials: { accessKeyId: string; secretAccessKey: string } } }) {
  return new S3Client({
    ...s3ClientConfig({ local: true }),
    endpoint: stack.s3.url,
    region: 'us-east-1',
    credentials: stack.s3.credentials,
  });
}

/**
 * Callback ingestion with delivery events on or off, on a stack of its own: 10,000 receipts pushed by the
 * twin from 4 senders at once, then drained into the lake (and, events on, published by the drain).
 */
export async function pushIngestion(events: boolean): Promise<IngestionFigures> {
  const numbers = PUSHED_NUMBERS;
  const profile = PUSHED_PROFILE;
  const stack = await localStack(Object.fromEntries(numbers.map((n) => [n, profile])), events);
  const s3 = lakeClient(stack);
  const drain = startInboxDrain(stack.offline.lambdaUrl, 3_600_000);
  try {
    const senders = 4;
    const ackedPerSecond = await pushAll(stack, numbers, senders);
    const drainStarted = performance.now();
    while ((await listKeys(s3, stack.s3.bucket, 'sms-status/_inbox/')).length > 0) await drain.now();
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    const eventsPublished = stack.events?.stats().entriesAccepted ?? 0;
    return { events, receipts: numbers.length * profile.count, ackedPerSecond, senders, drainSeconds, eventsPublished };
  } finally {
    await drain.stop();
    s3.destroy();
    await stack.stop();
  }
}

/** Pushes every receipt of `numbers` as fast as the receiver acknowledges, split over `senders` pushes. */
async function pushAll(stack: Stack, numbers: string[], senders: number): Promise<number> {
  const twin = stack.twin as NonNullable<Stack['twin']>;
  const started = performance.now();
  const size = Math.ceil(numbers.length / senders);
  const jobs = Array.from({ length: senders }, (_, i) =>
    twin.push({
      url: stack.callbackUrl,
      rate: 1_000_000,
      batchSize: 100,
      numbers: numbers.slice(i * size, (i + 1) * size),
    }),
  );
  const stats = await Promise.all(jobs.map((job) => job.finished));
  const acked = stats.reduce((sum, s) => sum + s.acked, 0);
  return acked / ((performance.now() - started) / 1000);
}

/** Writes `perDay` receipts of `phoneNumber` into each of the lake's days 8 to 8 + days back. */
async function fillLake(stack: Stack, s3: S3Client, phoneNumber: string, days: number, perDay: number): Promise<void> {
  const store = s3Store({ local: true }, s3);
  const now = Math.floor(Date.now() / 1000);
  for (let ago = 8; ago < 8 + days; ago++) {
    const records: ExportRecord[] = Array.from({ length: perDay }, (_, k) => ({
      serialNo: `2433:bench-${ago}-${k}`,
      phoneNumber,
      countryCode: '86',
      subscriberNumber: phoneNumber.slice(3),
      reportStatus: 'SUCCESS',
      description: 'DELIVRD',
      userReceiveTime: now - ago * DAY + k * 60,
      sdkAppId: stack.env.SMS_SDK_APP_ID as string,
    }));
    await mergeInto(
      store,
      stack.s3.bucket,
      objectKey('sms-status', utcDay(now - ago * DAY), groupOf(phoneNumber)),
      records,
    );
  }
}

async function historyLatency(
  stack: Stack,
  phoneNumber: string,
  days: number,
  runs: number,
): Promise<{ medianMs: number; statuses: number }> {
  const begin = Math.floor(Date.now() / 1000) - days * DAY;
  const url = `${stack.offline.httpUrl}/dev/v1/phone-numbers/${encodeURIComponent(phoneNumber)}/statuses?all=true&beginTime=${begin}`;
  const ms: number[] = [];
  let statuses = 0;
  for (let i = 0; i < runs + 1; i++) {
    const started = performance.now();
    const body = (await (await fetch(url, { headers: { 'x-api-key': stack.apiKey } })).json()) as {
      statuses: unknown[];
    };
    // The first run warms the Lambda (a cold start is measured elsewhere).
    if (i > 0) ms.push(performance.now() - started);
    statuses = body.statuses.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  return { medianMs: median(ms), statuses };
}

/** Callback ingestion (receiver and drain) and history lookups, on one local stack. */
export async function pushFigures(): Promise<PushFigures> {
  const numbers = PUSHED_NUMBERS;
  const profile = PUSHED_PROFILE;
  const history = '+8613920999999';
  const stack = await localStack({
    ...Object.fromEntries(numbers.map((n) => [n, profile])),
    [history]: { count: 60, fromAgo: 6 * DAY, toAgo: HOUR },
  });
  const s3 = lakeClient(stack);
  const drain = startInboxDrain(stack.offline.lambdaUrl, 3_600_000);
  try {
    const ackedPerSecond = await pushAll(stack, numbers, 1);
    const drainStarted = performance.now();
    while ((await listKeys(s3, stack.s3.bucket, 'sms-status/_inbox/')).length > 0) await drain.now();
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    const parallel = { senders: 4, ackedPerSecond: await pushAll(stack, numbers, 4) };
    await fillLake(stack, s3, history, 90, 12);
    const lookups = [];
    for (const days of [30, 90])
      lookups.push({ days, lakeDays: days - 7, ...(await historyLatency(stack, history, days, 5)) });
    return { receipts: numbers.length * profile.count, ackedPerSecond, parallel, drainSeconds, history: lookups };
  } finally {
    await drain.stop();
    s3.destroy();
    await stack.stop();
  }
}
