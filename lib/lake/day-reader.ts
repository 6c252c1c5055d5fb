import type { Readable } from 'node:stream';
import { groupOf, objectKey } from '#lib/lake/layout.ts';
import type { ObjectStore } from '#lib/lake/store.ts';
import type { StatusRecord } from '#lib/receipt.ts';
import { CorruptObject } from '#lib/lake/corrupt.ts';

/** A receipt as the lake stores it: the API's record and the SmsSdkAppId it was pulled for. */
export type LakeRecord = StatusRecord & { sdkAppId?: string };

/** The lake, one day at a time: the port the history reads through (S3 in production, memory in tests). */
export interface DayReader {
  /**
   * The records of `phoneNumber` in that UTC day's object of its group, streamed in stored order, never
   * the whole object in memory. Nothing when the object does not exist; a corrupt object throws
   * CorruptObject after the records read before the damage.
   */
  records(day: string, phoneNumber: string): AsyncIterable<LakeRecord>;
}

/**
 * The DayReader over the ObjectStore port: `objectKey(prefix, day, groupOf(number))`, gunzipped and
 * read line by line. A 403 counts as a missing object: S3 answers 403, not 404, for a key that does not
 * exist to a role that may GetObject but not ListBucket (the lookup's role).
 */
export function lakeDays(store: Pick<ObjectStore, 'read'>, bucket: string, prefix: string): DayReader {
  return {
    async *records(day, phoneNumber) {
      const key = objectKey(prefix, day, groupOf(phoneNumber));
      let body: Readable | undefined;
      try {
        body = (await store.read(bucket, key))?.body;
      } catch (error) {
        if (isAccessDenied(error)) return;
        throw error;
      }
      if (body) yield* numberLines(key, body, phoneNumber);
    },
  };
}

/** The lines of one number; other numbers' lines are skipped before they are parsed. */
async function* numberLines(key: string, body: Readable, phoneNumber: string): AsyncGenerator<LakeRecord> {
  // Loaded when a lookup first reaches the lake: most lookups never do, and the ESM namespaces of these
  // modules would cost every cold start (see lib/tencent/client.ts).
  const { PassThrough } = process.getBuiltinModule('node:stream');
  const { pipeline } = process.getBuiltinModule('node:stream/promises');
  const { createGunzip } = process.getBuiltinModule('node:zlib');
  const { createInterface } = process.getBuiltinModule('node:readline');
  const text = new PassThrough();
  const piped = pipeline(body, createGunzip(), text);
  // Readline sees the end of `text`; the pipeline's own failure (gzip, a reset stream) is awaited after it.
  piped.catch(() => undefined);
  try {
    for await (const line of createInterface({ input: text, crlfDelay: Infinity })) {
      if (!line.includes(phoneNumber)) continue;
      const record = parseRecord(key, line);
      if (record.phoneNumber === phoneNumber) yield record;
    }
    await piped;
  } catch (error) {
    throw isDataError(error) && !(error instanceof CorruptObject) ? new CorruptObject(key, error) : error;
  } finally {
    body.destroy();
    text.destroy();
  }
}

function parseRecord(key: string, line: string): LakeRecord {
  let raw: Partial<Record<keyof LakeRecord, unknown>>;
  try {
    raw = JSON.parse(line) as typeof raw;
  } catch (error) {
    throw new CorruptObject(key, error);
  }
  if (typeof raw?.serialNo !== 'string' || typeof raw.userReceiveTime !== 'number') {
    throw new CorruptObject(key, new Error('a line is not a delivery record'));
  }
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  return {
    serialNo: raw.serialNo,
    phoneNumber: text(raw.phoneNumber),
    countryCode: text(raw.countryCode),
    subscriberNumber: text(raw.subscriberNumber),
    reportStatus: text(raw.reportStatus),
    description: text(raw.description),
    userReceiveTime: raw.userReceiveTime,
    ...(typeof raw.sdkAppId === 'string' && { sdkAppId: raw.sdkAppId }),
  };
}

function isDataError(error: unknown): boolean {
  // zlib's codes: Z_DATA_ERROR for garbage, Z_BUF_ERROR for a truncated stream.
  return ((error as { code?: string }).code ?? '').startsWith('Z_');
}

function isAccessDenied(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'AccessDenied' || $metadata?.httpStatusCode === 403;
}
