import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { StatusRecord } from '#lib/receipt.ts';
import { CorruptObject } from './corrupt.ts';

/** One line of the lake: the API's record plus the SmsSdkAppId it belongs to. */
export type ExportRecord = StatusRecord & { sdkAppId: string };

/** A record's own fields in a fixed order: the same receipt always gives the same bytes. */
export function recordFields({
  serialNo,
  phoneNumber,
  countryCode,
  subscriberNumber,
  reportStatus,
  description,
  userReceiveTime,
  sdkAppId,
}: ExportRecord): ExportRecord {
  return { serialNo, phoneNumber, countryCode, subscriberNumber, reportStatus, description, userReceiveTime, sdkAppId };
}

export function toLine(record: ExportRecord): string {
  return JSON.stringify(recordFields(record));
}

/** A stored line as written, and its record: checked for what a merge needs (a damaged line may lack the rest). */
export interface StoredLine {
  line: string;
  record: Pick<ExportRecord, 'serialNo' | 'userReceiveTime'> &
    Partial<Omit<ExportRecord, 'phoneNumber'>> & { phoneNumber?: unknown };
}

/**
 * The stored lines of an object. Errors of the body stream or of gunzip reach the reader (pipeline
 * forwards them, .pipe() would not): a corrupt object is a CorruptObject, a reset stream its own error.
 */
export async function* storedLines(key: string, body: Readable | undefined): AsyncGenerator<StoredLine> {
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

export function parseLine(key: string, line: string): StoredLine['record'] {
  let record: StoredLine['record'] | undefined;
  try {
    record = JSON.parse(line) as StoredLine['record'];
  } catch (error) {
    throw new CorruptObject(key, error);
  }
  if (typeof record?.serialNo !== 'string' || typeof record.userReceiveTime !== 'number') {
    throw new CorruptObject(key, new Error('a line is not a delivery record'));
  }
  return record;
}

function isDataError(error: unknown): boolean {
  // zlib's codes: Z_DATA_ERROR for garbage, Z_BUF_ERROR for a truncated stream.
  return ((error as { code?: string }).code ?? '').startsWith('Z_');
}

/**
 * What can still be read of a corrupt object: the lines gunzip yields before the damage, without the
 * ones that are not delivery records (a line cut by a truncation, a garbled one). In stored order.
 */
export async function readableLines(key: string, bytes: Buffer): Promise<StoredLine[]> {
  const chunks: Buffer[] = [];
  const gunzip = createGunzip();
  gunzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => {
    gunzip.once('end', resolve).once('error', () => resolve());
    gunzip.end(bytes);
  });
  const lines: StoredLine[] = [];
  for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
    try {
      if (line) lines.push({ line, record: parseLine(key, line) });
    } catch {
      // Unreadable: what it held is owed to Tencent again (the lake's ledger).
    }
  }
  return lines;
}
