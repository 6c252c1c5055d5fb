import { createInterface } from 'node:readline';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { byReceiveTime, type StatusRecord } from '#lib/status/record.ts';
import { isE164 } from '#lib/status/query.ts';
import { CorruptObject } from './corrupt.ts';
import { conditionFor, withConflictRetry, type ObjectStore } from './store.ts';

/** One exported line: the API's record plus the SmsSdkAppId it belongs to. */
export type ExportRecord = StatusRecord & { sdkAppId: string };

export function toLine(record: ExportRecord): string {
  // Fixed field order, so the same records always give the same bytes.
  const { serialNo, phoneNumber, countryCode, subscriberNumber, reportStatus, description, userReceiveTime, sdkAppId } = record;
  return JSON.stringify({ serialNo, phoneNumber, countryCode, subscriberNumber, reportStatus, description, userReceiveTime, sdkAppId });
}

/** A stored line and the two fields the merge orders and matches by. */
export interface StoredLine {
  line: string;
  /** Checked for what a merge needs; the phone number is as the line has it (a damaged line may lack it). */
  record: Pick<ExportRecord, 'serialNo' | 'userReceiveTime'> & { phoneNumber?: unknown };
}

/**
 * The stored lines of an object. Errors of the body stream or of gunzip reach the reader (pipeline
 * forwards them, .pipe() would not): a corrupt object is a CorruptObject, a reset stream its own error.
 */
async function* storedLines(key: string, body: Readable | undefined): AsyncGenerator<StoredLine> {
  if (!body) return;
  const text = new PassThrough();
  const piped = pipeline(body, createGunzip(), text);
  // The readline below sees the end of `text`; the pipeline's own failure is awaited after it.
  piped.catch(() => undefined);
  try {
    for await (const line of createInterface({ input: text, crlfDelay: Infinity })) {
      if (line) yield { line, record: parseLine(key, line) };
    }
    await piped;
  } catch (error) {
    throw isDataError(error) ? new CorruptObject(key, error) : error;
  } finally {
    body.destroy();
  }
}

function parseLine(key: string, line: string): StoredLine['record'] {
  let record: Partial<ExportRecord> | undefined;
  try {
    record = JSON.parse(line) as Partial<ExportRecord>;
  } catch (error) {
    throw new CorruptObject(key, error);
  }
  if (typeof record?.serialNo !== 'string' || typeof record.userReceiveTime !== 'number') {
    throw new CorruptObject(key, new Error('a line is not a delivery record'));
  }
  return record as StoredLine['record'];
}

function isDataError(error: unknown): boolean {
  // zlib's codes: Z_DATA_ERROR for garbage, Z_BUF_ERROR for a truncated stream.
  return ((error as { code?: string }).code ?? '').startsWith('Z_');
}

/**
 * Both inputs sorted by receive time; a fresh record replaces a stored one with the same serialNo.
 * Streams: memory holds the fresh records only, however large the stored object has grown; stored
 * lines pass through as they were written.
 */
export async function* mergeSorted(stored: AsyncIterable<StoredLine>, fresh: ExportRecord[]): AsyncGenerator<string> {
  const replaced = new Set(fresh.map((record) => record.serialNo));
  let i = 0;
  for await (const { line, record } of stored) {
    if (replaced.has(record.serialNo)) continue;
    while (i < fresh.length && byReceiveTime(fresh[i] as ExportRecord, record as ExportRecord) < 0) yield `${toLine(fresh[i++] as ExportRecord)}\n`;
    yield `${line}\n`;
  }
  while (i < fresh.length) yield `${toLine(fresh[i++] as ExportRecord)}\n`;
}

/** The phone numbers of a corrupt object's lines that can still be read, up to the damage. */
async function readableNumbers(store: ObjectStore, bucket: string, key: string): Promise<string[]> {
  const numbers = new Set<string>();
  const object = await store.read(bucket, key);
  try {
    for await (const { record } of storedLines(key, object?.body)) if (isE164(record.phoneNumber)) numbers.add(record.phoneNumber);
  } catch (error) {
    if (!(error instanceof CorruptObject)) throw error;
  }
  return [...numbers];
}

/** What a merge met: a corrupt object is moved aside and replaced by the fresh records alone. */
export interface MergeOutcome {
  quarantined?: Quarantined;
}

export interface Quarantined {
  key: string;
  movedTo: string;
  error: string;
}

export interface MergeOptions {
  /** Where a corrupt object is moved before it is rebuilt. */
  quarantineKey: (key: string) => string;
  /**
   * Runs once the corrupt object is copied aside and before it is overwritten: what the caller must
   * remember of it (the day owed again) is made durable first. `numbersRead`: the phone numbers (E.164)
   * of the lines that could still be read, whose receipts were in it too.
   */
  beforeRebuild?: (quarantined: Quarantined, numbersRead: string[]) => Promise<void>;
}

/**
 * Adds records to a day-and-group object: the union of what it held and what was pulled, without
 * duplicate serialNo. The write is conditional on the version read, so a second writer's records are
 * never lost: on a conflict the object is read and merged again. Rewriting any window gives the same
 * object, and a run killed half-way leaves nothing that a re-run would duplicate.
 */
export async function mergeInto(store: ObjectStore, bucket: string, key: string, fresh: ExportRecord[], options?: MergeOptions): Promise<MergeOutcome> {
  const sorted = [...fresh].sort(byReceiveTime);
  return withConflictRetry(async () => {
    const stored = await store.read(bucket, key);
    try {
      await writeMerged(store, bucket, key, storedLines(key, stored?.body), sorted, stored?.etag);
      return {};
    } catch (error) {
      if (!(error instanceof CorruptObject) || !options || !stored) throw error;
      const quarantined = { key, movedTo: options.quarantineKey(key), error: error.message };
      await quarantine(store, bucket, key, quarantined.movedTo);
      // Read again on this rare path rather than noting every line of every merge.
      if (options.beforeRebuild) await options.beforeRebuild(quarantined, await readableNumbers(store, bucket, quarantined.movedTo));
      await writeMerged(store, bucket, key, (async function* () {})(), sorted, stored.etag);
      return { quarantined };
    }
  });
}

async function writeMerged(
  store: ObjectStore,
  bucket: string,
  key: string,
  stored: AsyncIterable<StoredLine>,
  sorted: ExportRecord[],
  etag: string | undefined,
): Promise<void> {
  const gzip = createGzip();
  const source = Readable.from(mergeSorted(stored, sorted));
  const feeding = pipeline(source, gzip);
  const writing = store.write(bucket, key, gzip, { contentType: 'application/gzip', condition: conditionFor(etag) });
  // Either side failing fails the merge, and the failure of the source wins: it names the object.
  const [fed, written] = await Promise.allSettled([feeding, writing]);
  if (fed.status === 'rejected') {
    throw fed.reason;
  }
  if (written.status === 'rejected') throw written.reason;
}

/** Copies the corrupt bytes aside (as they are), so nothing is destroyed that a person might recover. */
async function quarantine(store: ObjectStore, bucket: string, key: string, movedTo: string): Promise<void> {
  const object = await store.read(bucket, key);
  if (!object) return;
  await store.write(bucket, movedTo, object.body, { contentType: 'application/octet-stream' });
}
