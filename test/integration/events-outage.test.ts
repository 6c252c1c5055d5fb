/**
 * EventBridge down for a whole `sms-status export` (the stand-in answers every call 500
 * InternalException): every receipt still lands in the lake, the run exits 0 and its summary says how
 * many events are owed. Once EventBridge is back, the next run of the same window, or the next inbox
 * drain, publishes every owed event, once, and leaves the outbox empty.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryDetail } from '#lib/events/event.ts';
import { PUBLISH_POLICY } from '#lib/events/publish.ts';
import type { RunSummary } from '#lib/export/types.ts';
import type { DrainSummary } from '#lib/push/inbox.ts';
import { startEventBridge, type EventBridge } from '../../local/eventbridge/eventbridge.ts';
import { localEnv } from '../../local/function-env.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import { auditEvents, lakeClient, lakeOf, launchDrain, launchExport } from '../support/delivery-events.ts';

const BUS = 'sms-status-test';
const DAY = 86_400;
const PER_NUMBER = 6;
/** PutEvents calls a writer has under way at once (lib/events/publish.ts). */
const PUBLISH_CALLS = 4;

let twin: Twin;
let s3: LocalS3;
let eb: EventBridge;
let client: S3Client;
const end = Math.floor(Date.now() / 1000);

beforeAll(async () => {
  twin = await startTwin({ perNumber: PER_NUMBER });
  s3 = await startLocalS3({ bucket: 'outage' });
  eb = await startEventBridge({ buses: [BUS], maxEvents: 100_000 });
  client = lakeClient(s3);
});

afterAll(async () => {
  client?.destroy();
  await eb?.close();
  await s3?.close();
  await twin?.close();
});

function envFor(prefix: string): Record<string, string> {
  return {
    ...localEnv({ twin, s3 }),
    TENCENT_RPS_BUDGET: '20',
    EXPORT_PREFIX: prefix,
    EVENT_BUS_NAME: BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eb.url,
  };
}

function numbers(count: number, base: number): string[] {
  return Array.from({ length: count }, (_, i) => `+86135${String(base + i * 104_729).slice(-8)}`);
}

function argsFor(list: string[]): string[] {
  return ['--phone-numbers', list.join(','), '--begin', String(end - 6 * DAY), '--end', String(end)];
}

function details(since: number): DeliveryDetail[] {
  return eb.events(since).map((stored) => stored.event.detail as unknown as DeliveryDetail);
}

/** An export with EventBridge down throughout: receipts land, nothing is published, everything is owed. */
async function exportWhileDown(prefix: string, list: string[]): Promise<{ owed: number; lake: number }> {
  eb.configure({ down: true });
  const before = eb.stats();
  const started = performance.now();
  // One group at a time: its chunks are delivered one after the other, so the calls an outage costs are
  // counted for a writer, not for however many deliveries happen to start at the same moment.
  const run = await launchExport(argsFor(list), { ...envFor(prefix), EXPORT_GROUP_CONCURRENCY: '1' }).done;
  const seconds = (performance.now() - started) / 1000;
  eb.configure({ down: false });
  expect(run.code, run.stderr).toBe(0);
  const summary = JSON.parse(run.stdout) as RunSummary;
  const { records, outbox } = await lakeOf(client, s3.bucket, prefix);
  const truth = list.flatMap((n) => twin.truth(n, end - 6 * DAY, end));
  expect(records.length).toBe(truth.length);
  expect(records.length).toBeGreaterThan(list.length);
  const after = eb.stats();
  console.info(
    `[events-outage] ${prefix}: down for the run: ${records.length} receipts, ${after.callsDown - before.callsDown} calls refused, ${seconds.toFixed(1)} s`,
  );
  expect(after.callsDown - before.callsDown).toBeGreaterThan(0);
  // An outage costs a writer one call's attempts (a few at once), not a back-off per chunk: the export is
  // not held up by EventBridge, however many chunks it merges.
  expect(after.callsDown - before.callsDown).toBeLessThanOrEqual(PUBLISH_CALLS * PUBLISH_POLICY.attempts);
  expect(after.entriesAccepted).toBe(before.entriesAccepted);
  expect(summary.complete).toBe(true);
  expect(summary.eventsPublished).toBe(0);
  expect(summary.eventsOwed).toBe(records.length);
  expect(outbox.length).toBeGreaterThan(0);
  return { owed: summary.eventsOwed ?? 0, lake: records.length };
}

describe('EventBridge down for a whole export', () => {
  it('the receipts land and are owed; the next run of the window publishes each once', async () => {
    const prefix = 'outage-rerun';
    const list = numbers(40, 50_000_000);
    await exportWhileDown(prefix, list);
    const since = eb.stats().entriesAccepted;

    const run = await launchExport(argsFor(list), envFor(prefix)).done;
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    const { records, outbox } = await lakeOf(client, s3.bucket, prefix);
    const audit = auditEvents(details(since), records);
    expect(audit).toMatchObject({ missing: [], forNothing: [], duplicates: 0, events: records.length });
    expect(summary.eventsPublished).toBe(records.length);
    expect(summary.eventsOwed).toBe(0);
    expect(outbox).toEqual([]);
  }, 300_000);

  it('the receipts land and are owed; the next inbox drain publishes each once, with nothing in its inbox', async () => {
    const prefix = 'outage-drain';
    await exportWhileDown(prefix, numbers(12, 60_000_000));
    const since = eb.stats().entriesAccepted;

    const drain = await launchDrain({ ...envFor(prefix) }).done;
    expect(drain.code, drain.stderr).toBe(0);
    const summary = JSON.parse(drain.stdout) as DrainSummary;
    const { records, outbox } = await lakeOf(client, s3.bucket, prefix);
    expect(summary).toMatchObject({ objects: 0, records: 0 });
    expect(summary.events).toMatchObject({ published: records.length, owed: 0, dropped: 0 });
    const published = details(since);
    // Pulled receipts, told by the push side's drain: the origin is the export's, as kept in the outbox.
    expect(published.every((d) => d.origin === 'pull' && d.change === 'new')).toBe(true);
    expect(auditEvents(published, records)).toMatchObject({ missing: [], forNothing: [], duplicates: 0 });
    expect(outbox).toEqual([]);
  }, 300_000);
});
