import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { isE164 } from '#lib/phone-number.ts';
import { byReceiveTime } from '#lib/receipt.ts';
import { CorruptObject } from './corrupt.ts';
import { dayOfKey, groupOfKey, quarantineKey } from './layout.ts';
import { recordRebuild } from './ledger.ts';
import { readableLines, storedLines, toLine, type ExportRecord, type StoredLine } from './line.ts';
import { conditionFor, readBytes, withConflictRetry, WriteConflict, type ObjectStore } from './store.ts';
import { laterOf, previousIfChanged, uniqueBySerial, type Previous } from './versions.ts';

/** What a merge changed, by the merge rule: receipts new to the object, and receipts whose status or code changed. */
export interface MergeChanges {
  added: ExportRecord[];
  updated: Array<{ record: ExportRecord; previous: Previous }>;
}

/** Fresh versions that lost to a later stored one only found after they were written out: merge again without them. */
class StaleVersions extends Error {
  override readonly name = 'StaleVersions';
  readonly serials: Set<string>;
  constructor(serials: Set<string>) {
    super(`${serials.size} fresh versions are older than the stored ones`);
    this.serials = serials;
  }
}

/**
 * Both inputs sorted by receive time, one version per serialNo kept by the merge rule (laterOf). Streams:
 * memory holds the fresh records only, however large the stored object has grown; stored lines that are
 * kept pass through as they were written. A fresh version written out before a later stored version of
 * it came by fails the pass (StaleVersions): the caller merges again without it. Fills `changes`.
 */
export async function* mergeSorted(
  stored: AsyncIterable<StoredLine>,
  fresh: ExportRecord[],
  changes: MergeChanges = { added: [], updated: [] },
): AsyncGenerator<string> {
  const bySerial = new Map(fresh.map((record) => [record.serialNo, record]));
  const met = new Set<string>();
  const dropped = new Set<string>();
  const written = new Set<string>();
  const stale = new Set<string>();
  let i = 0;
  function* freshBefore(record?: StoredLine['record']): Generator<string> {
    for (; i < fresh.length && (!record || byReceiveTime(fresh[i] as ExportRecord, record as ExportRecord) < 0); i++) {
      const next = fresh[i] as ExportRecord;
      if (dropped.has(next.serialNo)) continue;
      written.add(next.serialNo);
      yield `${toLine(next)}\n`;
    }
  }
  for await (const { line, record } of stored) {
    const version = bySerial.get(record.serialNo);
    if (version) {
      met.add(version.serialNo);
      if (laterOf(record as ExportRecord, version) === version) {
        const previous = previousIfChanged(record as ExportRecord, version);
        if (previous) changes.updated.push({ record: version, previous });
        continue;
      }
      (written.has(version.serialNo) ? stale : dropped).add(version.serialNo);
    }
    yield* freshBefore(record);
    yield `${line}\n`;
  }
  yield* freshBefore();
  if (stale.size > 0) throw new StaleVersions(stale);
  changes.added.push(...fresh.filter((record) => !met.has(record.serialNo)));
}

/**
 * What a merge met and did: a corrupt object is copied aside and rebuilt from what it still held and the fresh records.
 */
export interface MergeOutcome {
  quarantined?: Quarantined;
  changes: MergeChanges;
  /** The change log's handle of the changes, when there were any to keep. */
  staged?: string;
}

export interface Quarantined {
  key: string;
  movedTo: string;
  error: string;
}

export interface MergeOptions {
  /** EXPORT_PREFIX: a corrupt object is copied under its `_quarantine/`, and owed in its ledger. */
  prefix: string;
  /** ms since epoch: when a rebuild was found, in the ledger. */
  now?: () => number;
  /** Where the changes a merge is about to write are made durable first (the delivery events' outbox). */
  changeLog?: ChangeLog;
}

/**
 * The changes of a merge, kept before the merge writes them (lib/events/outbox.ts): so a writer that
 * dies after its write leaves them to be told, and one that loses its race takes them back.
 */
export interface ChangeLog {
  /** Keeps the changes a merge of `key` is about to write; answers a handle for them. */
  stage(key: string, changes: MergeChanges): Promise<string>;
  /** The merge that staged them wrote nothing: forget them. */
  discard(handle: string): Promise<void>;
}

/** A corrupt object is read whole to be copied aside; one larger than this is left for a person. */
const MAX_CORRUPT_BYTES = 512 * 1024 * 1024;

/**
 * Adds records to a day-and-group object: the union of what it held and what was pulled, one version
 * per serialNo by the merge rule. The write is conditional on the version read, so a second writer's
 * records are never lost: on a conflict the object is read and merged again. Merges commute and are
 * idempotent: any order and batching of the same versions gives the same object.
 */
export async function mergeInto(
  store: ObjectStore,
  bucket: string,
  key: string,
  fresh: ExportRecord[],
  options?: MergeOptions,
): Promise<MergeOutcome> {
  let sorted = uniqueBySerial(fresh);
  return withConflictRetry(async () => {
    for (;;) {
      const stored = await store.read(bucket, key);
      try {
        if (options?.changeLog)
          return await stagedMerge(
            store,
            { bucket, key, etag: stored?.etag },
            storedLines(key, stored?.body),
            sorted,
            options.changeLog,
          );
        return { changes: await writeMerged(store, bucket, key, storedLines(key, stored?.body), sorted, stored?.etag) };
      } catch (error) {
        if (error instanceof StaleVersions) {
          // The stored versions only get later, so what lost once loses on every try.
          sorted = sorted.filter((record) => !error.serials.has(record.serialNo));
          continue;
        }
        if (!(error instanceof CorruptObject) || !options || !stored) throw error;
        return rebuild(store, { bucket, key, etag: stored.etag }, sorted, options, error);
      }
    }
  });
}

interface Version {
  bucket: string;
  key: string;
  etag: string;
}

/** What merging `fresh` into `stored` changes, without writing (a pass that throws as the merge would). */
async function changesOf(stored: AsyncIterable<StoredLine>, sorted: ExportRecord[]): Promise<MergeChanges> {
  const changes: MergeChanges = { added: [], updated: [] };
  for await (const line of mergeSorted(stored, sorted, changes)) void line;
  return changes;
}

/**
 * A merge whose changes are kept in the change log before the object is written: computed against the
 * version read, kept, then written on condition of that same version (read again). A writer that loses
 * the race discards what it kept and merges again; one that dies in between leaves it to be checked
 * against the lake (lib/events/sweep.ts).
 */
async function stagedMerge(
  store: ObjectStore,
  found: Omit<Version, 'etag'> & { etag?: string },
  stored: AsyncIterable<StoredLine>,
  sorted: ExportRecord[],
  changeLog: ChangeLog,
  /** The lines to write from, given the version read again (a rebuild writes from the readable lines instead). */
  linesOf: (again: Readable | undefined) => AsyncIterable<StoredLine> = (again) => storedLines(found.key, again),
): Promise<MergeOutcome> {
  const changes = await changesOf(stored, sorted);
  const staged =
    changes.added.length + changes.updated.length > 0 ? await changeLog.stage(found.key, changes) : undefined;
  try {
    const again = await store.read(found.bucket, found.key);
    if (again?.etag !== found.etag) {
      again?.body.destroy();
      throw new WriteConflict(found.bucket, found.key);
    }
    await writeMerged(store, found.bucket, found.key, linesOf(again?.body), sorted, found.etag);
  } catch (error) {
    if (staged) await changeLog.discard(staged);
    throw error;
  }
  return { changes, ...(staged && { staged }) };
}

/**
 * A corrupt object: exactly the version found corrupt is copied under a key named by its bytes (written
 * only if absent, so a second writer that found it too keeps the same copy), its day is owed in the
 * lake's ledger to every job of its group (what stood after the damage is gone), and only then is the
 * object rewritten from its readable lines and the fresh records, on condition of that version: a writer
 * killed in between leaves the object still corrupt or the day owed, never neither.
 */
async function rebuild(
  store: ObjectStore,
  found: Version,
  sorted: ExportRecord[],
  options: MergeOptions,
  error: CorruptObject,
): Promise<MergeOutcome> {
  const bytes = await readVersion(store, found);
  const movedTo = quarantineKey(options.prefix, found.key, createHash('sha256').update(bytes).digest('hex'));
  await keepCopy(store, found.bucket, movedTo, bytes);
  const quarantined = { key: found.key, movedTo, error: error.message };
  const readable = await readableLines(found.key, bytes);
  const [day, group] = [dayOfKey(found.key), groupOfKey(found.key)];
  if (day !== undefined && group !== undefined) {
    const owed = { key: found.key, movedTo, day, group, numbersRead: numbersOf(readable) };
    await recordRebuild(store, found.bucket, options.prefix, owed, (options.now ?? Date.now)());
  }
  if (options.changeLog) {
    const fromReadable = (again: Readable | undefined): AsyncIterable<StoredLine> => (
      again?.destroy(),
      Readable.from(readable)
    );
    const outcome = await stagedMerge(store, found, Readable.from(readable), sorted, options.changeLog, fromReadable);
    return { ...outcome, quarantined };
  }
  const changes = await writeMerged(store, found.bucket, found.key, Readable.from(readable), sorted, found.etag);
  return { quarantined, changes };
}

/** The object's bytes, if it is still the version read; another writer replaced it: merge again. */
async function readVersion(store: ObjectStore, { bucket, key, etag }: Version): Promise<Buffer> {
  const object = await store.read(bucket, key);
  if (object?.etag !== etag) {
    object?.body.destroy();
    throw new WriteConflict(bucket, key);
  }
  return readBytes(object.body, MAX_CORRUPT_BYTES, `s3://${bucket}/${key}`);
}

async function keepCopy(store: ObjectStore, bucket: string, key: string, bytes: Buffer): Promise<void> {
  try {
    await store.write(bucket, key, Readable.from([bytes]), {
      contentType: 'application/octet-stream',
      condition: { ifNoneMatch: '*' },
    });
  } catch (error) {
    // The same bytes are kept there already: another writer found the same corrupt version.
    if (!(error instanceof WriteConflict)) throw error;
  }
}

function numbersOf(lines: StoredLine[]): string[] {
  return [...new Set(lines.map(({ record }) => record.phoneNumber).filter(isE164))];
}

async function writeMerged(
  store: ObjectStore,
  bucket: string,
  key: string,
  stored: AsyncIterable<StoredLine>,
  sorted: ExportRecord[],
  etag: string | undefined,
): Promise<MergeChanges> {
  const changes: MergeChanges = { added: [], updated: [] };
  const gzip = createGzip();
  const source = Readable.from(mergeSorted(stored, sorted, changes));
  const feeding = pipeline(source, gzip);
  const writing = store.write(bucket, key, gzip, { contentType: 'application/gzip', condition: conditionFor(etag) });
  // Either side failing fails the merge, and the failure of the source wins: it names the object.
  const [fed, written] = await Promise.allSettled([feeding, writing]);
  if (fed.status === 'rejected') throw fed.reason;
  if (written.status === 'rejected') throw written.reason;
  return changes;
}
