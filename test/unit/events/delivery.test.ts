/**
 * Delivery events over the memory store and a fake EventBridge: merges keep their events in the outbox
 * before they write, a writer sends its own, a sweep sends what others left (only what the lake holds).
 */
import { describe, expect, it } from 'vitest';
import { addDelivery, deliver, noDelivery, refusedEvents, sweep, type EventsOut } from '#lib/events/deliver.ts';
import type { DeliveryDetail, EventEntry } from '#lib/events/event.ts';
import { Outbox } from '#lib/events/outbox.ts';
import { MAX_ENTRIES, publish, type EventSink, type PutResult } from '#lib/events/publish.ts';
import { objectKey, outboxPrefix } from '#lib/lake/layout.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { mergeInto } from '#lib/lake/merge.ts';
import type { ListingStore } from '#lib/lake/store.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';

const BUCKET = 'lake';
const PREFIX = 'sms-status';
const KEY = objectKey(PREFIX, '2026-12-01', 7);
const T0 = Date.UTC(2026, 11, 1, 8) / 1000;
const NOW = Date.UTC(2026, 11, 5, 12);
const fast = { attempts: 6, baseDelayMs: 0, maxDelayMs: 0, sleep: async () => undefined };

function record(serial: number, overrides: Partial<ExportRecord> = {}): ExportRecord {
  return {
    serialNo: `2433:${String(serial).padStart(6, '0')}`,
    phoneNumber: '+8613711112222',
    countryCode: '86',
    subscriberNumber: '13711112222',
    reportStatus: 'SUCCESS',
    description: 'DELIVRD',
    userReceiveTime: T0 + serial,
    sdkAppId: '1400000000',
    ...overrides,
  };
}

/** EventBridge: keeps what it accepts; `refuse` answers an entry with an error code instead; `down` throws. */
function fakeBridge(refuse: (entry: EventEntry, call: number) => string | undefined = () => undefined) {
  const accepted: DeliveryDetail[] = [];
  let calls = 0;
  let down = false;
  const sink: EventSink & { accepted: DeliveryDetail[]; calls: () => number; setDown(on: boolean): void } = {
    accepted,
    calls: () => calls,
    setDown: (on) => void (down = on),
    async put(entries): Promise<PutResult[]> {
      calls += 1;
      if (down) throw Object.assign(new Error('service unavailable'), { name: 'InternalException' });
      if (entries.length > MAX_ENTRIES) throw Object.assign(new Error('too many'), { name: 'ValidationException' });
      return entries.map((entry) => {
        const code = refuse(entry, calls);
        if (code) return { errorCode: code, errorMessage: 'refused' };
        accepted.push(JSON.parse(entry.Detail) as DeliveryDetail);
        return { eventId: `e-${accepted.length}` };
      });
    },
  };
  return sink;
}

function out(store: ListingStore, sink: EventSink, origin: 'push' | 'pull' = 'push'): EventsOut {
  return {
    sink,
    busName: 'sms-status-dev',
    outbox: new Outbox({ store, bucket: BUCKET, prefix: PREFIX }, origin, () => NOW),
    policy: fast,
  };
}

async function mergeWithEvents(store: MemoryStore, events: EventsOut, records: ExportRecord[]) {
  return mergeInto(store, BUCKET, KEY, records, { prefix: PREFIX, changeLog: events.outbox });
}

describe('publish', () => {
  it('sends at most 10 entries a call, and only the refused ones again, until all are in', async () => {
    let refusedOnce = 0;
    const sink = fakeBridge((entry, call) =>
      call <= 3 && refusedOnce++ % 3 === 0 ? 'ThrottlingException' : undefined,
    );
    const details = Array.from({ length: 45 }, (_, i) => ({
      ...record(i),
      origin: 'pull' as const,
      change: 'new' as const,
    }));
    const sent = await publish(sink, details, 'bus', fast);
    expect(sent).toMatchObject({ published: 45, owed: [] });
    expect(sink.accepted.map((d) => d.serialNo).sort()).toEqual(details.map((d) => d.serialNo).sort());
  });

  it('keeps owed what EventBridge will not take, whatever the reason, and says why', async () => {
    const sink = fakeBridge((entry) =>
      JSON.parse(entry.Detail).serialNo.endsWith('1') ? 'AccessDeniedException' : undefined,
    );
    const details = Array.from({ length: 12 }, (_, i) => ({
      ...record(i),
      origin: 'pull' as const,
      change: 'new' as const,
    }));
    const sent = await publish(sink, details, 'bus', fast);
    expect(sent.published).toBe(10);
    expect(sent.owed.map((d) => d.serialNo)).toEqual(['2433:000001', '2433:000011']);
    expect(sent.errors).toEqual({ AccessDeniedException: 2 });
  });

  it('EventBridge down: everything owed after its attempts, nothing lost', async () => {
    const sink = fakeBridge();
    sink.setDown(true);
    const details = Array.from({ length: 25 }, (_, i) => ({
      ...record(i),
      origin: 'pull' as const,
      change: 'new' as const,
    }));
    const sent = await publish(sink, details, 'bus', fast);
    expect(sent.owed).toHaveLength(25);
    expect(sent.errors).toEqual({ InternalException: 25 });
  });
});

describe('a merge with delivery events', () => {
  it('keeps one event per new or changed receipt in the outbox before it writes, and nothing for a re-merge', async () => {
    const store = memoryStore();
    const events = out(store, fakeBridge());
    const first = await mergeWithEvents(store, events, [record(1), record(2)]);
    expect(first.staged).toBeDefined();
    expect((await events.outbox.read(first.staged as string))?.value.events.map((e) => [e.serialNo, e.change])).toEqual(
      [
        ['2433:000001', 'new'],
        ['2433:000002', 'new'],
      ],
    );
    const again = await mergeWithEvents(store, events, [record(1), record(2)]);
    expect(again.staged).toBeUndefined();
    const changed = await mergeWithEvents(store, events, [
      record(2, { reportStatus: 'FAIL', description: 'UNDELIV', userReceiveTime: T0 + 300 }),
    ]);
    expect((await events.outbox.read(changed.staged as string))?.value.events).toEqual([
      expect.objectContaining({
        serialNo: '2433:000002',
        change: 'updated',
        previous: { reportStatus: 'SUCCESS', description: 'DELIVRD' },
        origin: 'push',
      }),
    ]);
  });

  it('takes its entry back when it loses the race to another writer, and keeps the one of the merge that wrote', async () => {
    const inner = memoryStore();
    const events = out(inner, fakeBridge());
    let raced = false;
    const racing: ListingStore = {
      ...inner,
      async write(bucket, key, body, options) {
        if (key === KEY && !raced) {
          raced = true;
          await mergeInto(inner, BUCKET, KEY, [record(9)]);
        }
        return inner.write(bucket, key, body, options);
      },
    };
    const merged = await mergeInto(racing, BUCKET, KEY, [record(1)], { prefix: PREFIX, changeLog: events.outbox });
    expect(raced).toBe(true);
    expect(inner.keys(BUCKET, outboxPrefix(PREFIX))).toEqual([merged.staged]);
  });

  it('a writer sends its own events and deletes the entry; what is refused stays in it', async () => {
    const store = memoryStore();
    const sink = fakeBridge((entry) =>
      JSON.parse(entry.Detail).serialNo === '2433:000002' ? 'AccessDeniedException' : undefined,
    );
    const events = out(store, sink);
    const merged = await mergeWithEvents(store, events, [record(1), record(2)]);
    const readsBefore = store.reads.length;
    expect(await deliver(events, [merged.staged as string])).toEqual({
      published: 1,
      owed: 1,
      dropped: 0,
      errors: { AccessDeniedException: 1 },
    });
    // What the writer staged it still has: no GET of its own entry.
    expect(store.reads.slice(readsBefore)).toEqual([]);
    expect((await events.outbox.read(merged.staged as string))?.value.events.map((e) => e.serialNo)).toEqual([
      '2433:000002',
    ]);
  });
});

describe('sweep: what writers left behind', () => {
  it('sends an entry whose merge wrote (its writer died before sending), once', async () => {
    const store = memoryStore();
    const events = out(store, fakeBridge());
    await mergeWithEvents(store, events, [record(1), record(2)]);
    const swept = await sweep(events, { store, bucket: BUCKET }, { graceMs: 60_000, maxEntries: 10 }, NOW);
    expect(swept).toEqual({ published: 2, owed: 0, dropped: 0, errors: {} });
    expect(store.keys(BUCKET, outboxPrefix(PREFIX))).toEqual([]);
    expect(await sweep(events, { store, bucket: BUCKET }, { graceMs: 60_000, maxEntries: 10 }, NOW)).toEqual(
      noDelivery(),
    );
  });

  it('never tells what the lake does not hold: an entry whose merge never wrote waits out the grace, then goes', async () => {
    const store = memoryStore();
    const sink = fakeBridge();
    const events = out(store, sink);
    await events.outbox.stage(KEY, { added: [record(5)], updated: [] });
    const young = await sweep(events, { store, bucket: BUCKET }, { graceMs: 60_000, maxEntries: 10 }, NOW + 1000);
    expect(young).toEqual({ published: 0, owed: 1, dropped: 0, errors: {} });
    // Waiting on a merge under way is not EventBridge's doing: the owed-events alarm does not count it.
    expect(refusedEvents(young)).toBe(0);
    const old = await sweep(events, { store, bucket: BUCKET }, { graceMs: 60_000, maxEntries: 10 }, NOW + 120_000);
    expect(old).toEqual({ published: 0, owed: 0, dropped: 1, errors: {} });
    expect(sink.accepted).toEqual([]);
  });

  it('drops a version a later receipt replaced in the lake (that merge tells its own)', async () => {
    const store = memoryStore();
    const events = out(store, fakeBridge());
    await events.outbox.stage(KEY, { added: [record(3)], updated: [] });
    await mergeInto(store, BUCKET, KEY, [record(3, { userReceiveTime: T0 + 999, reportStatus: 'FAIL' })]);
    expect(await sweep(events, { store, bucket: BUCKET }, { graceMs: 0, maxEntries: 10 }, NOW)).toMatchObject({
      published: 0,
      dropped: 1,
    });
  });

  it('EventBridge down for a whole run: receipts land, events stay owed, the next sweep sends them', async () => {
    const store = memoryStore();
    const sink = fakeBridge();
    sink.setDown(true);
    const events = out(store, sink);
    const total = noDelivery();
    for (let batch = 0; batch < 3; batch++) {
      const merged = await mergeWithEvents(store, events, [record(batch * 2), record(batch * 2 + 1)]);
      addDelivery(total, await deliver(events, [merged.staged as string]));
    }
    expect(total).toMatchObject({ published: 0, owed: 6 });
    expect(refusedEvents(total)).toBe(6);
    expect(store.lines(BUCKET, KEY)).toHaveLength(6);
    sink.setDown(false);
    expect(await sweep(events, { store, bucket: BUCKET }, { graceMs: 60_000, maxEntries: 10 }, NOW)).toMatchObject({
      published: 6,
      owed: 0,
    });
    expect(new Set(sink.accepted.map((d) => d.serialNo)).size).toBe(6);
  });
});

describe('EventBridge down: a writer does not wait on it chunk after chunk', () => {
  it('once a call failed on every attempt, later deliveries make no call for a while; their events stay owed, then go', async () => {
    const store = memoryStore();
    const sink = fakeBridge();
    sink.setDown(true);
    const events: EventsOut = { ...out(store, sink), health: { downUntil: 0 } };
    const total = noDelivery();
    for (let batch = 0; batch < 5; batch++) {
      const merged = await mergeWithEvents(store, events, [record(batch * 2), record(batch * 2 + 1)]);
      addDelivery(total, await deliver(events, [merged.staged as string]));
    }
    // One call's attempts, not one per delivery: an export of many chunks is not held up by the outage.
    expect(sink.calls()).toBe(fast.attempts);
    expect(total).toMatchObject({ published: 0, owed: 10 });
    expect(store.lines(BUCKET, KEY)).toHaveLength(10);

    sink.setDown(false);
    const settings = { graceMs: 60_000, maxEntries: 10 };
    expect(await sweep(events, { store, bucket: BUCKET }, settings, NOW)).toMatchObject({ published: 0, owed: 10 });
    expect(sink.calls()).toBe(fast.attempts);
    // The pause is over: EventBridge is tried again, and everything owed goes, once.
    events.health = { downUntil: 0 };
    expect(await sweep(events, { store, bucket: BUCKET }, settings, NOW)).toMatchObject({ published: 10, owed: 0 });
    expect(sink.accepted.map((d) => d.serialNo).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => record(i).serialNo),
    );
  });

  // Seen under load in events-export-refusals: an entry refused alone five times, then the call throttled
  // once, marked EventBridge down for a minute, and the run's later deliveries and its sweep owed 315 events.
  it('a call that got through on some attempt is no outage, even when its last attempt was throttled whole', async () => {
    const health = { downUntil: 0 };
    let calls = 0;
    const sink: EventSink = {
      async put(entries) {
        calls += 1;
        if (calls === fast.attempts) throw Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
        return entries.map(() => ({ errorCode: 'InternalFailure', errorMessage: 'refused' }));
      },
    };
    const owedOnce = await publish(sink, [{ ...record(1), origin: 'pull', change: 'new' }], 'bus', fast, health);
    expect(owedOnce).toMatchObject({ published: 0, errors: { ThrottlingException: 1 } });
    expect(health.downUntil).toBe(0);
  });
});
