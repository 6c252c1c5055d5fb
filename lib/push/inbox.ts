import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import pLimit from 'p-limit';
import { groupOf, inboxKey, inboxPrefix, objectKey, quarantineKey } from '#lib/lake/layout.ts';
import { readBytes, WriteConflict, type ListingStore, type ObjectStore } from '#lib/lake/store.ts';
import { mergeInto, type MergeOutcome } from '#lib/lake/merge.ts';
import { toLine, type ExportRecord } from '#lib/lake/line.ts';
import {
  addDelivery,
  deliver,
  noDelivery,
  sweep,
  SWEEP_DEFAULTS,
  type Delivery,
  type EventsOut,
} from '#lib/events/deliver.ts';
import { tallyOf } from '#lib/receipt.ts';
import { utcDay } from '#lib/utc-day.ts';
import { parseInboxLine } from './inbox-line.ts';
import { uniqueBySerial } from '#lib/lake/versions.ts';

/**
 * The callback's inbox (docs/push.md). The receiver stores each batch as one object under
 * `_inbox/`, named by the hash of its content, and answers; the drain merges a whole minute of
 * batches into the lake's day objects with one conditional merge per (day, group), then deletes them.
 */

export interface InboxLocation {
  bucket: string;
  prefix: string;
}

export interface InboxSettings extends InboxLocation {
  /** Inbox objects one drain takes at most (the rest is `remaining`). */
  maxObjects: number;
  /** Receipts one drain holds in memory at most: it stops reading once past this. */
  maxRecords: number;
  /** Stop reading inbox objects when less than this is left: the merges and deletes need the rest. */
  reserveMs: number;
  /** Inbox objects read (and deleted) at once. */
  readConcurrency: number;
  /** Day objects merged at once. */
  mergeConcurrency: number;
}

/** An inbox object is at most a 1 MiB body's receipts, gzipped; anything far larger is not one. */
const MAX_INBOX_OBJECT_BYTES = 16 * 1024 * 1024;
const MAX_INBOX_TEXT_BYTES = 64 * 1024 * 1024;
/** Quarantined objects listed in a summary, at most. */
const SAMPLE = 20;

/**
 * Where a batch is stored: `_inbox/<UTC hour of its earliest receipt>/<sha256 of its canonical lines>`.
 * The key is a function of the receipts alone, so a batch sent again (in any order) names the same object.
 */
export function batchKey(prefix: string, canonicalText: string, earliest: number): string {
  const hour = new Date(earliest * 1000).toISOString().slice(0, 13);
  return inboxKey(prefix, hour, createHash('sha256').update(canonicalText).digest('hex'));
}

export interface StoredBatch {
  /** The inbox object, or undefined for an empty batch (nothing stored). */
  key?: string;
  /** False when the same batch was already in the inbox. */
  created: boolean;
  receipts: number;
}

/**
 * Stores one batch durably as one object, created only if absent (`If-None-Match: *`). A conflict
 * means the same content is already there: the batch is stored, and a redelivery changes nothing.
 * `signal` aborts the write (the receiver's deadline): then the batch is not stored, or stored whole.
 */
export async function storeBatch(
  store: ObjectStore,
  location: InboxLocation,
  records: ExportRecord[],
  signal?: AbortSignal,
): Promise<StoredBatch> {
  const canonical = uniqueBySerial(records);
  const first = canonical[0];
  if (first === undefined) return { created: false, receipts: 0 };
  const text = canonical.map((record) => `${toLine(record)}\n`).join('');
  const key = batchKey(location.prefix, text, first.userReceiveTime);
  try {
    await store.write(location.bucket, key, Readable.from([gzipSync(text)]), {
      contentType: 'application/gzip',
      condition: { ifNoneMatch: '*' },
      signal,
    });
    return { key, created: true, receipts: canonical.length };
  } catch (error) {
    if (error instanceof WriteConflict) return { key, created: false, receipts: canonical.length };
    throw error;
  }
}

export interface DrainDeps {
  store: ListingStore;
  /** Milliseconds left in this invocation (Lambda's context); unlimited when absent. */
  remainingMs?: () => number;
  now?: () => number;
  /** Delivery events: the merges keep theirs in the outbox, and the drain sends them and what others left. */
  events?: EventsOut;
}

export interface Quarantined {
  key: string;
  movedTo: string;
  error: string;
}

export interface DrainSummary {
  /** Inbox objects merged into the lake and deleted. */
  objects: number;
  /** Distinct receipts (by serialNo) merged. */
  records: number;
  /** Lake objects (one per day and group) merged into. */
  merged: number;
  /** Inbox objects that were not gzip JSON Lines of receipts, moved to `_quarantine/`. */
  quarantined: number;
  /** More is waiting in the inbox: the next drain takes it. */
  remaining: boolean;
  /** Up to 20 of the quarantined inbox objects. */
  quarantinedObjects: Quarantined[];
  /** Lake objects found corrupt: moved to `_quarantine/` and rebuilt from the receipts merged here. */
  corruptObjects: Quarantined[];
  /** Receipts new to the lake, by status and country (`SUCCESS 86`): the delivery metrics. */
  newReceipts: Record<string, number>;
  /** Delivery events sent, owed (still in the outbox) and dropped; none without events configured. */
  events: Delivery;
}

interface Batch {
  key: string;
  records: ExportRecord[];
}

interface ReadOutcome {
  batches: Batch[];
  quarantined: Quarantined[];
  stoppedEarly: boolean;
}

/**
 * Merges what waits in the inbox into the lake: reads up to `maxObjects` inbox objects (fewer when time
 * or `maxRecords` runs short), merges their receipts into each (day, group) object with `mergeInto` (the
 * export's conditional merge, retried on conflicts), and only then deletes them. A crash in between
 * leaves them in place, and merging them again changes nothing.
 */
export async function drainInbox(deps: DrainDeps, settings: InboxSettings): Promise<DrainSummary> {
  const listed = await deps.store.list(settings.bucket, inboxPrefix(settings.prefix), settings.maxObjects + 1);
  const read = await readInbox(deps, settings, listed.slice(0, settings.maxObjects));
  const records = uniqueBySerial(read.batches.flatMap((batch) => batch.records));
  const outcomes = await mergeRecords(deps, settings, records);
  const limit = pLimit(settings.readConcurrency);
  await Promise.all(read.batches.map(({ key }) => limit(() => deps.store.delete(settings.bucket, key))));
  const corruptObjects = outcomes.flatMap((outcome) => (outcome.quarantined ? [outcome.quarantined] : []));
  const events = await deliverEvents(deps, settings, outcomes);
  return {
    objects: read.batches.length,
    records: records.length,
    merged: outcomes.length,
    quarantined: read.quarantined.length,
    remaining: listed.length > settings.maxObjects || read.stoppedEarly,
    quarantinedObjects: read.quarantined.slice(0, SAMPLE),
    corruptObjects: corruptObjects.slice(0, SAMPLE),
    newReceipts: tallyOf(outcomes.flatMap((outcome) => outcome.changes.added)),
    events,
  };
}

/** This drain's events first, then what earlier writers left in the outbox (it runs every minute). */
async function deliverEvents(deps: DrainDeps, settings: InboxSettings, outcomes: MergeOutcome[]): Promise<Delivery> {
  if (!deps.events) return noDelivery();
  const own = await deliver(
    deps.events,
    outcomes.flatMap((outcome) => (outcome.staged ? [outcome.staged] : [])),
  );
  const left = await sweep(
    deps.events,
    { store: deps.store, bucket: settings.bucket },
    SWEEP_DEFAULTS,
    (deps.now ?? Date.now)(),
  );
  return addDelivery(own, left);
}

/** Reads inbox objects in key order, side by side; stops starting new reads when time or room runs out. */
async function readInbox(deps: DrainDeps, settings: InboxSettings, keys: string[]): Promise<ReadOutcome> {
  const limit = pLimit(settings.readConcurrency);
  const outcome: ReadOutcome = { batches: [], quarantined: [], stoppedEarly: false };
  let held = 0;
  const found = await Promise.all(
    keys.map((key) =>
      limit(async (): Promise<Batch | undefined> => {
        if (
          outcome.stoppedEarly ||
          held >= settings.maxRecords ||
          (deps.remainingMs?.() ?? Infinity) < settings.reserveMs
        ) {
          outcome.stoppedEarly = true;
          return undefined;
        }
        const batch = await readBatch(deps.store, settings, key, outcome.quarantined);
        held += batch?.records.length ?? 0;
        return batch;
      }),
    ),
  );
  outcome.batches = found.filter((batch): batch is Batch => batch !== undefined);
  return outcome;
}

/**
 * One inbox object's receipts; undefined when it is gone (another drain took it) or corrupt (moved to
 * `_quarantine/` and listed). A stream that fails for any other reason fails the drain: nothing is lost.
 */
async function readBatch(
  store: ObjectStore,
  settings: InboxSettings,
  key: string,
  quarantined: Quarantined[],
): Promise<Batch | undefined> {
  const object = await store.read(settings.bucket, key);
  if (!object) return undefined;
  let bytes: Buffer;
  try {
    bytes = await readBytes(object.body, MAX_INBOX_OBJECT_BYTES, `s3://${settings.bucket}/${key}`);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    quarantined.push(await quarantine(store, settings, key, undefined, error));
    return undefined;
  }
  try {
    const lines = gunzipSync(bytes, { maxOutputLength: MAX_INBOX_TEXT_BYTES }).toString('utf8').split('\n');
    return { key, records: lines.filter(Boolean).map(parseInboxLine) };
  } catch (error) {
    quarantined.push(await quarantine(store, settings, key, bytes, error));
    return undefined;
  }
}

/** Copies a corrupt inbox object (as it is) to `_quarantine/_inbox/…`, then takes it out of the inbox. */
async function quarantine(
  store: ObjectStore,
  settings: InboxSettings,
  key: string,
  bytes: Buffer | undefined,
  error: unknown,
): Promise<Quarantined> {
  const movedTo = quarantineKey(settings.prefix, key);
  const body = bytes ? Readable.from([bytes]) : (await store.read(settings.bucket, key))?.body;
  if (body !== undefined) {
    try {
      await store.write(settings.bucket, movedTo, body, {
        contentType: 'application/octet-stream',
        condition: { ifNoneMatch: '*' },
      });
    } catch (conflict) {
      // Already quarantined by an earlier drain that stopped before the delete.
      if (!(conflict instanceof WriteConflict)) throw conflict;
    }
  }
  await store.delete(settings.bucket, key);
  return { key, movedTo, error: (error as Error).message };
}

/**
 * One conditional merge per (UTC day, group) object, a few side by side. A corrupt one is rebuilt, and
 * its day owed in the lake's ledger to every export job of its group (the pulled receipts it held).
 */
async function mergeRecords(
  deps: DrainDeps,
  settings: InboxSettings,
  records: ExportRecord[],
): Promise<MergeOutcome[]> {
  const byObject = Map.groupBy(records, (record) =>
    objectKey(settings.prefix, utcDay(record.userReceiveTime), groupOf(record.phoneNumber)),
  );
  const limit = pLimit(settings.mergeConcurrency);
  const options = { prefix: settings.prefix, now: deps.now, changeLog: deps.events?.outbox };
  return Promise.all(
    [...byObject].map(([key, list]) => limit(() => mergeInto(deps.store, settings.bucket, key, list, options))),
  );
}
