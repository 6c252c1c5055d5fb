/**
 * Writers of the lake killed (SIGKILL) at random points, then resumed: `sms-status export` as a child
 * process, and the inbox drain's Lambda handler (functions/inbox.ts) as a child process. Some points are
 * seeded random delays after the start; the others are chosen by PutEvents call, through a gate in
 * front of the EventBridge stand-in: the writer is killed just before its Nth call reaches EventBridge
 * (between its lake write and PutEvents), or just after EventBridge accepted it (before the writer could
 * take the events out of its outbox). After each resume the lake holds the same receipts as an unkilled
 * run, and the events published are the same set: none missing, none for a receipt the lake does not
 * hold, duplicates identical. Every point tried is printed with what it hit.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryDetail } from '#lib/events/event.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { parseCallbackBody } from '#lib/push/callback.ts';
import { storeBatch } from '#lib/push/inbox.ts';
import { startEventBridge, type EventBridge } from '../../local/eventbridge/eventbridge.ts';
import { localEnv } from '../../local/function-env.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3.ts';
import { prng } from '../../local/twin/prng.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import {
  auditEvents,
  lakeClient,
  lakeOf,
  launchDrain,
  launchExport,
  putEventsGate,
  receiptOf,
  type ChildRun,
  type GatePhase,
  type Launched,
  type PutEventsGate,
} from '../support/delivery-events.ts';

const BUS = 'sms-status-test';
const DAY = 86_400;
const SEED = 2323;

let twin: Twin;
let s3: LocalS3;
let eb: EventBridge;
let gate: PutEventsGate;
let client: S3Client;

beforeAll(async () => {
  twin = await startTwin({ perNumber: 10 });
  s3 = await startLocalS3({ bucket: 'kills' });
  eb = await startEventBridge({ buses: [BUS], maxEvents: 100_000 });
  gate = await putEventsGate(eb.url);
  client = lakeClient(s3);
});

afterAll(async () => {
  client?.destroy();
  await gate?.close();
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
    AWS_ENDPOINT_URL_EVENTBRIDGE: gate.url,
  };
}

/** Where a writer is killed: ms after it started, or at its Nth PutEvents call. */
type Point = { afterMs: number } | { call: number; phase: GatePhase };

function describePoint(point: Point): string {
  return 'afterMs' in point ? `${point.afterMs} ms after start` : `${point.phase} PutEvents call ${point.call}`;
}

/** Starts a writer, killing it at `point`: answers what the killed run did, and whether the kill came first. */
async function killedAt(start: () => Launched, point: Point): Promise<{ run: ChildRun; killed: boolean }> {
  const launched = start();
  const kill = (): void => void launched.child.kill('SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  if ('afterMs' in point) timer = setTimeout(kill, point.afterMs);
  // The gate counts every call it ever passed: the point's call is counted from this run's start.
  else gate.at(gate.calls() + point.call, point.phase, kill);
  const run = await launched.done;
  clearTimeout(timer);
  gate.clear();
  return { run, killed: run.signal === 'SIGKILL' };
}

function published(since: number): DeliveryDetail[] {
  return eb.events(since).map((stored) => stored.event.detail as unknown as DeliveryDetail);
}

interface Outcome {
  lake: string[];
  events: Set<string>;
  duplicates: number;
}

/** The writer's events since `since` held against its prefix of the lake: nothing missing, nothing for nothing. */
async function settled(prefix: string, since: number, origin: 'push' | 'pull'): Promise<Outcome> {
  const { records, outbox } = await lakeOf(client, s3.bucket, prefix);
  const details = published(since);
  const audit = auditEvents(details, records);
  if (audit.missing.length > 0 || outbox.length > 0) {
    const missing = records.filter((r) => audit.missing.includes(r.serialNo));
    console.info(`[events-kill-resume] ${prefix}: missing ${JSON.stringify(missing)}; outbox ${outbox.join(', ')}`);
  }
  expect(audit.missing).toEqual([]);
  expect(audit.forNothing).toEqual([]);
  expect(audit.notIdentical).toEqual([]);
  expect(outbox).toEqual([]);
  expect(details.every((d) => d.origin === origin && d.change === 'new')).toBe(true);
  return { lake: records.map(receiptOf).sort(), events: new Set(details.map(receiptOf)), duplicates: audit.duplicates };
}

/** Seeded points: three random delays within an unkilled run's time, three random PutEvents calls. */
function pointsFor(baselineMs: number, baselineCalls: number, random: () => number): Point[] {
  const call = (): number => 1 + Math.floor(random() * baselineCalls);
  const delay = (): number => Math.round(300 + random() * baselineMs);
  return [
    { afterMs: delay() },
    { afterMs: delay() },
    { afterMs: delay() },
    { call: 1, phase: 'before' },
    { call: call(), phase: 'before' },
    { call: call(), phase: 'after' },
  ];
}

/** Runs the writer once per point, killed there and resumed, and holds each outcome to the unkilled one. */
async function killAndResume(
  name: string,
  origin: 'push' | 'pull',
  prepare: (prefix: string) => Promise<void>,
  start: (prefix: string) => Launched,
  resume: (prefix: string) => Promise<void>,
): Promise<void> {
  const random = prng(SEED);
  await prepare(`${name}-baseline`);
  const since = eb.stats().entriesAccepted;
  const calls = gate.calls();
  const began = performance.now();
  const baselineRun = await start(`${name}-baseline`).done;
  expect(baselineRun.code, baselineRun.stderr).toBe(0);
  const baselineMs = performance.now() - began;
  const baseline = await settled(`${name}-baseline`, since, origin);
  expect(baseline.duplicates).toBe(0);
  expect(baseline.events.size).toBe(baseline.lake.length);
  const points = pointsFor(baselineMs, gate.calls() - calls, random);
  const tried: string[] = [];
  for (const [i, point] of points.entries()) {
    const prefix = `${name}-${i}`;
    await prepare(prefix);
    const mark = eb.stats().entriesAccepted;
    const { run, killed } = await killedAt(() => start(prefix), point);
    if (!killed) expect(run.code, run.stderr).toBe(0);
    await resume(prefix);
    const where = `${name} ${describePoint(point)}: ${killed ? 'killed' : 'finished first'}`;
    console.info(`[events-kill-resume] ${where}; killed run's stderr ends: ${run.stderr.slice(-300)}`);
    const outcome = await settled(prefix, mark, origin);
    expect(outcome.lake).toEqual(baseline.lake);
    expect(outcome.events).toEqual(baseline.events);
    tried.push(`${describePoint(point)}: ${killed ? 'killed' : 'finished first'}, ${outcome.duplicates} duplicates`);
  }
  console.info(`[events-kill-resume] ${name}, unkilled in ${Math.round(baselineMs)} ms:\n  ${tried.join('\n  ')}`);
  // Killing must have hit: at least the points chosen by PutEvents call always find the writer alive.
  expect(tried.filter((line) => line.includes('killed')).length).toBeGreaterThanOrEqual(3);
}

describe('sms-status export killed at random points, then run again', () => {
  const end = Math.floor(Date.now() / 1000);
  const numbers = Array.from({ length: 30 }, (_, i) => `+86133${String(70_000_000 + i * 104_729).slice(-8)}`);
  const args = ['--phone-numbers', numbers.join(','), '--begin', String(end - 6 * DAY), '--end', String(end)];

  it('the lake and the events published are those of an unkilled run, every time', async () => {
    await killAndResume(
      'export',
      'pull',
      async () => undefined,
      (prefix) => launchExport(args, envFor(prefix)),
      async (prefix) => {
        const again = await launchExport(args, envFor(prefix)).done;
        expect(again.code, again.stderr).toBe(0);
      },
    );
  }, 600_000);
});

describe('the inbox drain killed at random points, then run again', () => {
  const NOW = Math.floor(Date.now() / 1000);
  const SETTINGS = { sdkAppId: '1400000000', utcOffsetMinutes: 480 };

  /** Beijing wall-clock time of unix seconds, as Tencent writes user_receive_time. */
  function beijing(seconds: number): string {
    return new Date((seconds + 8 * 3600) * 1000).toISOString().replace('T', ' ').slice(0, 19);
  }

  /** 300 receipts of 30 numbers over three days, as Tencent posts them: six callbacks of 50. */
  const bodies = Array.from({ length: 6 }, (_, b) =>
    JSON.stringify(
      Array.from({ length: 50 }, (_, j) => {
        const i = b * 50 + j;
        return {
          user_receive_time: beijing(NOW - 3 * DAY + i * 797),
          nationcode: '86',
          mobile: `1330000${String(i % 30).padStart(4, '0')}`,
          report_status: i % 7 === 0 ? 'FAIL' : 'SUCCESS',
          errmsg: i % 7 === 0 ? 'UNDELIV' : 'DELIVRD',
          description: i % 7 === 0 ? '短信发送失败' : '用户短信送达成功',
          sid: `kill-${i}`,
        };
      }),
    ),
  );

  /** The callback's own steps: each body parsed and stored as one inbox object. */
  async function pushAll(prefix: string): Promise<void> {
    const store = s3Store({ local: true }, client);
    for (const body of bodies)
      await storeBatch(store, { bucket: s3.bucket, prefix }, parseCallbackBody(body, SETTINGS));
  }

  /** Drains until the inbox is empty (one drain, unless it was killed part-way). */
  async function drainAll(prefix: string): Promise<void> {
    const drain = await launchDrain(envFor(prefix)).done;
    expect(drain.code, drain.stderr).toBe(0);
    expect(JSON.parse(drain.stdout)).toMatchObject({ remaining: false });
  }

  it('the lake and the events published are those of an unkilled drain, every time', async () => {
    await killAndResume('drain', 'push', pushAll, (prefix) => launchDrain(envFor(prefix)), drainAll);
  }, 600_000);
});
