import { storedLines, toLine } from '#lib/lake/line.ts';
import type { ObjectStore } from '#lib/lake/store.ts';
import type { DeliveryDetail, Origin } from './event.ts';
import { eventBridgeSink } from './eventbridge.ts';
import { Outbox, type OutboxPlace } from './outbox.ts';
import { publish, PUBLISH_POLICY, type EventSink, type PublishPolicy, type SinkHealth } from './publish.ts';

/** Where events go and how: the bus (EVENT_BUS_NAME), PutEvents, and the outbox they wait in. */
export interface EventsOut {
  sink: EventSink;
  busName: string;
  outbox: Outbox;
  policy?: PublishPolicy;
  /** Shared by the writer's deliveries: EventBridge found down is left alone a while (publish.ts). */
  health?: SinkHealth;
}

/** What a writer's delivery did: events EventBridge accepted, events still owed (in the outbox), and why. */
export interface Delivery {
  published: number;
  owed: number;
  /** Events of entries left behind whose receipts the lake does not hold as told: their merge never wrote. */
  dropped: number;
  errors: Record<string, number>;
}

export function noDelivery(): Delivery {
  return { published: 0, owed: 0, dropped: 0, errors: {} };
}

/**
 * Events owed because EventBridge did not take them (refused, throttled out, down), not those waiting on a
 * merge still under way: what the DeliveryEventsOwed alarm watches.
 */
export function refusedEvents(delivery: Delivery): number {
  return Object.values(delivery.errors).reduce((sum, n) => sum + n, 0);
}

export function addDelivery(into: Delivery, more: Delivery): Delivery {
  into.published += more.published;
  into.owed += more.owed;
  into.dropped += more.dropped;
  for (const [code, n] of Object.entries(more.errors)) into.errors[code] = (into.errors[code] ?? 0) + n;
  return into;
}

/** The events of outbox entries a writer just merged: sent as they are, the entry deleted or cut to what is owed. */
export async function deliver(out: EventsOut, handles: string[]): Promise<Delivery> {
  const total = noDelivery();
  for (const handle of handles) {
    const entry = await out.outbox.read(handle);
    if (!entry) continue;
    const sent = await publish(out.sink, entry.value.events, out.busName, out.policy ?? PUBLISH_POLICY, out.health);
    await out.outbox.settle(handle, entry, sent.owed);
    addDelivery(total, { published: sent.published, owed: sent.owed.length, dropped: 0, errors: sent.errors });
  }
  return total;
}

export interface SweepSettings {
  /** An entry younger than this may belong to a merge still under way: its missing receipts are not given up yet. */
  graceMs: number;
  /** Entries one sweep takes at most. */
  maxEntries: number;
}

export const SWEEP_DEFAULTS: SweepSettings = { graceMs: 15 * 60_000, maxEntries: 200 };

/**
 * Entries a writer left behind (it died after keeping them, or EventBridge refused or was down): each
 * event is sent only if the lake holds exactly that version of its receipt, so nothing is told that the
 * lake does not hold. One whose receipt the lake holds otherwise (a later version: that merge tells it)
 * or not at all past the grace (its merge never wrote) is dropped.
 */
export async function sweep(
  out: EventsOut,
  lake: { store: ObjectStore; bucket: string },
  settings: SweepSettings,
  nowMs: number,
): Promise<Delivery> {
  const total = noDelivery();
  for (const handle of await out.outbox.waiting(settings.maxEntries)) {
    const entry = await out.outbox.read(handle);
    if (!entry) continue;
    const held = await heldVersions(lake, entry.value.key);
    const told = (e: DeliveryDetail): boolean => held?.get(e.serialNo) === toLine(e);
    const young = nowMs - Date.parse(entry.value.keptAt) < settings.graceMs;
    // A day object that cannot be read says nothing: everything waits.
    const waits = (e: DeliveryDetail): boolean => held === undefined || (young && !held.has(e.serialNo));
    const events = entry.value.events.filter(told);
    const waiting = entry.value.events.filter((e) => !told(e) && waits(e));
    const dropped = entry.value.events.length - events.length - waiting.length;
    const sent = await publish(out.sink, events, out.busName, out.policy ?? PUBLISH_POLICY, out.health);
    await out.outbox.settle(handle, entry, [...sent.owed, ...waiting]);
    addDelivery(total, {
      published: sent.published,
      owed: sent.owed.length + waiting.length,
      dropped,
      errors: sent.errors,
    });
  }
  return total;
}

/** Each receipt of a day object as its line (by serialNo); undefined when the object cannot be read whole. */
async function heldVersions(
  { store, bucket }: { store: ObjectStore; bucket: string },
  key: string,
): Promise<Map<string, string> | undefined> {
  const held = new Map<string, string>();
  try {
    const object = await store.read(bucket, key);
    for await (const { record } of storedLines(key, object?.body))
      held.set(record.serialNo, toLine(record as Parameters<typeof toLine>[0]));
    return held;
  } catch {
    return undefined;
  }
}

/**
 * The delivery events of one writer (`origin`), to `busName`; none when events are off (EVENTS_ENABLED,
 * EVENT_BUS_NAME).
 */
export function eventsOut(
  busName: string | undefined,
  place: OutboxPlace,
  origin: Origin,
  sink: EventSink = eventBridgeSink(),
): EventsOut | undefined {
  return busName === undefined
    ? undefined
    : { sink, busName, outbox: new Outbox(place, origin), health: { downUntil: 0 } };
}
