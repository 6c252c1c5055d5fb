/**
 * The events the stand-in accepted, as a rule's target would receive them (EventBridge's event
 * envelope), each numbered in arrival order. Memory keeps the most recent `maxEvents`; the count goes
 * on. With a file, each event is also appended as one JSON line before the call is answered, so when
 * the SDK returns the line is there (`tail -f` shows events as they come).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** What a target of a rule gets: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601 to the second, as EventBridge writes it. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface StoredEvent {
  /** 1 for the first event accepted since start, and so on: the cursor of `events(since)`. */
  seq: number;
  bus: string;
  event: EventEnvelope;
}

export interface EventLog {
  /** Records the events of one call, file first: if the file cannot be written, nothing is recorded. */
  append(events: ReadonlyArray<Omit<StoredEvent, 'seq'>>): void;
  /** The kept events numbered above `seq` (all kept events without it), oldest first. */
  since(seq?: number): StoredEvent[];
  /** How many events are kept. */
  kept(): number;
  close(): void;
}

export function createEventLog(maxEvents: number, file?: string): EventLog {
  const fd = file === undefined ? undefined : openSync(file, 'a');
  let kept: StoredEvent[] = [];
  let total = 0;
  return {
    append(events) {
      const numbered = events.map((event, i) => ({ seq: total + i + 1, ...event }));
      const lines = numbered.map((event) => `${JSON.stringify(event)}\n`).join('');
      if (fd !== undefined && lines !== '') writeSync(fd, lines);
      total += numbered.length;
      kept.push(...numbered);
      if (kept.length > maxEvents) kept = kept.slice(kept.length - maxEvents);
    },
    since: (seq = 0) => kept.filter((event) => event.seq > seq),
    kept: () => kept.length,
    close() {
      if (fd !== undefined) closeSync(fd);
    },
  };
}
