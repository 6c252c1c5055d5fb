import pLimit from 'p-limit';
import { entrySize } from './entry-size.ts';
import { entryOf, type DeliveryDetail, type EventEntry } from './event.ts';

/** One entry's result, one for one with the call's entries: an EventId, or why not. */
export interface PutResult {
  eventId?: string;
  errorCode?: string;
  errorMessage?: string;
}

/** PutEvents (lib/events/eventbridge.ts, or a fake): throws when the whole call fails (throttled, down). */
export interface EventSink {
  put(entries: EventEntry[]): Promise<PutResult[]>;
}

/** How hard to try: attempts per call, full-jitter backoff doubling from `baseDelayMs` up to `maxDelayMs`. */
export interface PublishPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
}

export const PUBLISH_POLICY: PublishPolicy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 5000 };

/**
 * A writer's view of EventBridge: a call that failed whole on every attempt marks it down until
 * `downUntil` (ms since epoch). Meanwhile events stay owed in the outbox without a call, so an outage
 * costs a writer one call's back-off, not one per chunk: receipts keep landing at their own pace.
 */
export interface SinkHealth {
  downUntil: number;
}

/** How long EventBridge is left alone once found down: the next drain (every minute) tries again. */
export const DOWN_FOR_MS = 60_000;

/** PutEvents' own limits: 1 to 10 entries, their sizes (as AWS counts them) under 256 KiB in all. */
export const MAX_ENTRIES = 10;
export const MAX_CALL_BYTES = 256 * 1024;
/** Entry errors worth sending again; the others (AccessDenied, MalformedDetail, …) stay owed and reported. */
const RETRYABLE = new Set(['InternalFailure', 'ThrottlingException']);
/** Calls under way at once. */
const CALLS = 4;

export interface Published {
  published: number;
  /** Events EventBridge has not accepted (yet): they stay in the outbox. */
  owed: DeliveryDetail[];
  /** Why, by error code (a whole call's failure by its error name). */
  errors: Record<string, number>;
}

/** Sends events in calls of PutEvents' size; only the entries that failed are sent again, after a pause. */
export async function publish(
  sink: EventSink,
  details: DeliveryDetail[],
  busName: string,
  policy = PUBLISH_POLICY,
  health: SinkHealth = { downUntil: 0 },
): Promise<Published> {
  const outcome: Published = { published: 0, owed: [], errors: {} };
  const { calls, tooLarge } = callsOf(details, busName);
  for (const detail of tooLarge) owe(outcome, [detail], 'EntryTooLarge');
  const limit = pLimit(CALLS);
  await Promise.all(calls.map((call) => limit(() => sendCall(sink, call, { ...policy, health }, outcome))));
  return outcome;
}

type Call = Array<{ detail: DeliveryDetail; entry: EventEntry }>;

function callsOf(details: DeliveryDetail[], busName: string): { calls: Call[]; tooLarge: DeliveryDetail[] } {
  const calls: Call[] = [];
  const tooLarge: DeliveryDetail[] = [];
  let current: Call = [];
  let bytes = 0;
  for (const detail of details) {
    const entry = entryOf(detail, busName);
    const size = entrySize(entry);
    if (size >= MAX_CALL_BYTES) {
      tooLarge.push(detail);
      continue;
    }
    if (current.length === MAX_ENTRIES || bytes + size >= MAX_CALL_BYTES) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ detail, entry });
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return { calls, tooLarge };
}

async function sendCall(
  sink: EventSink,
  call: Call,
  policy: PublishPolicy & { health: SinkHealth },
  outcome: Published,
): Promise<void> {
  let pending = call;
  let wholeFailures = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (Date.now() < policy.health.downUntil)
      return owe(
        outcome,
        pending.map((p) => p.detail),
        'EventBridgeDown',
      );
    let failure: string;
    try {
      const results = await sink.put(pending.map((p) => p.entry));
      const again: Call = [];
      pending.forEach((p, i) => {
        const code = results[i]?.errorCode;
        if (code === undefined && results[i]?.eventId !== undefined) outcome.published += 1;
        else if (code !== undefined && RETRYABLE.has(code)) again.push(p);
        else owe(outcome, [p.detail], code ?? 'NoEventId');
      });
      pending = again;
      failure = 'ThrottlingException';
    } catch (error) {
      failure = (error as Error).name || 'CallFailed';
      wholeFailures += 1;
    }
    if (pending.length === 0) return;
    // Down only when no attempt got through: entries refused alone, then a throttled last try, are no outage.
    if (attempt >= policy.attempts && wholeFailures === attempt) policy.health.downUntil = Date.now() + DOWN_FOR_MS;
    if (attempt >= policy.attempts)
      return owe(
        outcome,
        pending.map((p) => p.detail),
        failure,
      );
    const pause =
      (policy.random ?? Math.random)() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    await (policy.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))))(pause);
  }
}

function owe(outcome: Published, details: DeliveryDetail[], code: string): void {
  outcome.owed.push(...details);
  outcome.errors[code] = (outcome.errors[code] ?? 0) + details.length;
}
