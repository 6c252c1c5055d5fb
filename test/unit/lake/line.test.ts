import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CorruptObject } from '#lib/lake/corrupt.ts';
import { parseLine, readableLines, storedLines, toLine, type ExportRecord, type StoredLine } from '#lib/lake/line.ts';
import { gzipLines, lakeRecord as record } from '../../support/lake.ts';

const KEY = 'sms-status/statuses/dt=2024-05-01/part-03.jsonl.gz';
const T0 = Date.UTC(2024, 4, 1, 8) / 1000;
const FIELDS = [
  'serialNo',
  'phoneNumber',
  'countryCode',
  'subscriberNumber',
  'reportStatus',
  'description',
  'userReceiveTime',
  'sdkAppId',
];
const RECORDS = Array.from({ length: 40 }, (_, i) => record(i, T0 + i));

/** What a reader of `lines` got before it stopped, and what stopped it. */
async function read(lines: AsyncIterable<StoredLine>): Promise<{ got: StoredLine[]; error?: unknown }> {
  const got: StoredLine[] = [];
  try {
    for await (const line of lines) got.push(line);
    return { got };
  } catch (error) {
    return { got, error };
  }
}

/** A body that gives `bytes`, then fails as a reset connection does. */
function resetAfter(bytes: Buffer): Readable {
  const body = new Readable({ read() {} });
  body.push(bytes);
  setImmediate(() => body.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
  return body;
}

describe('toLine', () => {
  it('writes the eight fields in a fixed order, whatever order the record has', () => {
    const r = record(1, T0);
    const shuffled = Object.fromEntries(Object.entries(r).reverse()) as ExportRecord;
    expect(toLine(shuffled)).toBe(toLine(r));
    expect(Object.keys(JSON.parse(toLine(shuffled)))).toEqual(FIELDS);
  });

  it('drops anything else a record carries and is one line', () => {
    const line = toLine({ ...record(1, T0, { description: 'line\nbreak' }), extra: 'x' } as ExportRecord);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).not.toHaveProperty('extra');
    expect(JSON.parse(line).description).toBe('line\nbreak');
  });
});

describe('parseLine', () => {
  it('answers the record of a line, whatever else the line carries', () => {
    const line = JSON.stringify({ ...record(7, T0), note: 'written by an older version' });
    expect(parseLine(KEY, line)).toEqual({ ...record(7, T0), note: 'written by an older version' });
  });

  it('a line that is not JSON, or not a delivery record, is a CorruptObject naming the key', () => {
    const lines = ['{"serialNo":"2433:1","userRe', '"a string"', 'null'];
    lines.push('{"serialNo":1,"userReceiveTime":1}', '{"serialNo":"s","userReceiveTime":"1"}');
    for (const line of lines) {
      let error: unknown;
      try {
        parseLine(KEY, line);
      } catch (e) {
        error = e;
      }
      expect(error, line).toBeInstanceOf(CorruptObject);
      expect((error as CorruptObject).key).toBe(KEY);
    }
  });
});

describe('storedLines', () => {
  it('yields each stored line exactly as written, with its record, in stored order; none for no object', async () => {
    const lines = RECORDS.map(toLine);
    const { got, error } = await read(storedLines(KEY, Readable.from([gzipLines(lines)])));
    expect(error).toBeUndefined();
    expect(got.map((l) => l.line)).toEqual(lines);
    expect(got.map((l) => l.record)).toEqual(RECORDS);
    expect((await read(storedLines(KEY, undefined))).got).toEqual([]);
  });

  it('a body that is not gzip is a CorruptObject naming the key', async () => {
    const { got, error } = await read(storedLines(KEY, Readable.from([Buffer.from('not gzip at all')])));
    expect(got).toEqual([]);
    expect(error).toBeInstanceOf(CorruptObject);
    expect((error as CorruptObject).key).toBe(KEY);
  });

  it('a truncated object gives the lines before the damage, then a CorruptObject', async () => {
    const whole = gzipLines(RECORDS.map(toLine));
    const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
    const { got, error } = await read(storedLines(KEY, Readable.from([cut])));
    expect(error).toBeInstanceOf(CorruptObject);
    expect(got.length).toBeLessThan(RECORDS.length);
    expect(got.map((l) => l.record)).toEqual(RECORDS.slice(0, got.length));
  });

  it('a stream reset mid-read is that error, not a corrupt object', async () => {
    const whole = gzipLines(RECORDS.map(toLine));
    const { error } = await read(storedLines(KEY, resetAfter(whole.subarray(0, 30))));
    expect(error).not.toBeInstanceOf(CorruptObject);
    expect((error as Error).message).toMatch(/ECONNRESET/);
  });

  it('a reader that stops early releases the body', async () => {
    const body = Readable.from([gzipLines(RECORDS.map(toLine))]);
    for await (const line of storedLines(KEY, body)) {
      expect(line.record).toEqual(RECORDS[0]);
      break;
    }
    expect(body.destroyed).toBe(true);
  });
});

describe('readableLines', () => {
  it('a whole object: every line', async () => {
    const lines = RECORDS.map(toLine);
    expect((await readableLines(KEY, gzipLines(lines))).map((l) => l.line)).toEqual(lines);
  });

  it('a truncated object: the whole lines before the damage, without the one it cut', async () => {
    const whole = gzipLines(RECORDS.map(toLine));
    const readable = await readableLines(KEY, whole.subarray(0, Math.floor(whole.length * 0.6)));
    expect(readable.length).toBeGreaterThan(0);
    expect(readable.length).toBeLessThan(RECORDS.length);
    expect(readable.map((l) => l.record)).toEqual(RECORDS.slice(0, readable.length));
  });

  it('lines that are not delivery records are left out; bytes that are not gzip give nothing', async () => {
    const lines = [toLine(RECORDS[0] as ExportRecord), 'garbled', '{"serialNo":3}', toLine(RECORDS[1] as ExportRecord)];
    expect((await readableLines(KEY, gzipLines(lines))).map((l) => l.record)).toEqual(RECORDS.slice(0, 2));
    expect(await readableLines(KEY, Buffer.from('not gzip at all'))).toEqual([]);
  });
});
