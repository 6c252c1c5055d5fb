/**
 * `sms-status export` of 40 numbers with EVENT_BUS_NAME set, against an EventBridge stand-in that refuses
 * 30% of entries (InternalFailure, a retryable entry code) and throttles 10% of calls whole: the run
 * exits 0 and the stand-in holds one event for every receipt the run made new in the lake, exactly as the
 * lake holds it, duplicates at most 2% and identical. The same window again publishes nothing.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryDetail } from '#lib/events/event.ts';
import type { RunSummary } from '#lib/export/types.ts';
import { startEventBridge, type EventBridge } from '../../local/eventbridge/eventbridge.ts';
import { localEnv } from '../../local/function-env.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import { auditEvents, lakeClient, lakeOf, launchExport } from '../support/delivery-events.ts';

const BUS = 'sms-status-test';
const PREFIX = 'refusals';
const DAY = 86_400;
const NUMBERS = Array.from({ length: 40 }, (_, i) => `+86137${String(40_000_000 + i * 104_729).slice(-8)}`);

let twin: Twin;
let s3: LocalS3;
let eb: EventBridge;
let client: S3Client;
let env: Record<string, string>;
const end = Math.floor(Date.now() / 1000);
// The twin's receipts lie from 6 days before its start, floored to the hour, up to a minute before it: a
// window of 6 days from now missed those of the first minutes past the hour (1192 of 1200 at 01:25).
const begin = end - 6 * DAY - 3600;
const args = ['--phone-numbers', NUMBERS.join(','), '--begin', String(begin), '--end', String(end)];

beforeAll(async () => {
  twin = await startTwin({ perNumber: 30 });
  s3 = await startLocalS3({ bucket: 'events' });
  eb = await startEventBridge({
    buses: [BUS],
    maxEvents: 100_000,
    entryFailureRate: 0.3,
    entryFailureCode: 'InternalFailure',
    callThrottleRate: 0.1,
    seed: 23,
  });
  client = lakeClient(s3);
  env = {
    ...localEnv({ twin, s3 }),
    TENCENT_RPS_BUDGET: '20',
    EXPORT_PREFIX: PREFIX,
    EVENT_BUS_NAME: BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eb.url,
  };
});

afterAll(async () => {
  client?.destroy();
  await eb?.close();
  await s3?.close();
  await twin?.close();
});

const details = (): DeliveryDetail[] => eb.events().map((stored) => stored.event.detail as unknown as DeliveryDetail);

describe('an export while EventBridge refuses 30% of entries and throttles 10% of calls', () => {
  it('exits 0, and every receipt new in the lake has its event: none missing, none for nothing, duplicates ≤ 2%', async () => {
    const run = await launchExport(args, env).done;
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    const { records, outbox } = await lakeOf(client, s3.bucket, PREFIX);
    expect(records.length).toBe(NUMBERS.length * 30);

    const audit = auditEvents(details(), records);
    console.info(
      `[events-export-refusals] ${JSON.stringify({ ...audit, missing: audit.missing.length, eventsOwed: summary.eventsOwed, stats: eb.stats() })}`,
    );
    if (audit.missing.length > 0) console.info(`[events-export-refusals] stderr: ${run.stderr.slice(-2000)}`);
    expect(audit.missing).toEqual([]);
    expect(audit.forNothing).toEqual([]);
    expect(audit.notIdentical).toEqual([]);
    expect(audit.duplicateRate).toBeLessThanOrEqual(0.02);
    expect(details().every((d) => d.origin === 'pull' && d.change === 'new' && d.previous === undefined)).toBe(true);
    expect(summary.eventsOwed).toBe(0);
    expect(outbox).toEqual([]);

    // The faults did happen, and every call the export made kept to PutEvents' limits.
    const stats = eb.stats();
    expect(stats.callsThrottled).toBeGreaterThan(0);
    expect(stats.entriesRefused.InternalFailure ?? 0).toBeGreaterThan(0.2 * records.length);
    expect(stats.callsInvalid).toBe(0);
    expect(Object.keys(stats.entriesRefused)).toEqual(['InternalFailure']);
  }, 180_000);

  it('the same window again publishes nothing: the re-merge changes nothing', async () => {
    const before = eb.stats();
    const run = await launchExport(args, env).done;
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    expect(summary.eventsPublished).toBe(0);
    expect(summary.eventsOwed).toBe(0);
    expect(eb.stats().entriesAccepted).toBe(before.entriesAccepted);
    expect(eb.stats().calls).toBe(before.calls);
  }, 180_000);
});
