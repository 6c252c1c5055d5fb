import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { byReceiveTime, type StatusRecord } from '#lib/status/record.ts';
import type { ObjectStore } from './store.ts';

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
  record: Pick<ExportRecord, 'serialNo' | 'userReceiveTime'>;
}

async function* storedLines(body: Readable | undefined): AsyncGenerator<StoredLine> {
  if (!body) return;
  for await (const line of createInterface({ input: body.pipe(createGunzip()), crlfDelay: Infinity })) {
    if (line) yield { line, record: JSON.parse(line) as ExportRecord };
  }
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

/**
 * Adds records to a day-and-shard object: the union of what it held and what was pulled, without
 * duplicate serialNo. Rewriting any window therefore gives the same object, and a run killed half-way
 * leaves nothing that a re-run would duplicate.
 */
export async function mergeInto(store: ObjectStore, bucket: string, key: string, fresh: ExportRecord[]): Promise<void> {
  const sorted = [...fresh].sort(byReceiveTime);
  const stored = await store.read(bucket, key);
  const body = Readable.from(mergeSorted(storedLines(stored), sorted)).pipe(createGzip());
  await store.write(bucket, key, body, { contentType: 'application/gzip' });
}
