import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CorruptObject } from '#lib/lake/corrupt.ts';
import { ledgerKey, quarantineKey } from '#lib/lake/layout.ts';
import type { Ledger } from '#lib/lake/ledger.ts';
import { mergeInto, mergeSorted } from '#lib/lake/merge.ts';
import { readableLines, toLine, type ExportRecord, type StoredLine } from '#lib/lake/line.ts';
import type { ObjectStore } from '#lib/lake/store.ts';
import { byReceiveTime } from '#lib/receipt.ts';
import { lakeRecord as record } from '../../support/lake.ts';
import { memoryStore } from '../../support/memory-store.ts';

const BUCKET = 'exports';
const KEY = 'sms-status/statuses/dt=2024-05-01/part-03.jsonl.gz';
const T0 = Date.UTC(2024, 4, 1, 8) / 1000;

/** Stored records as the merge reads them from an object: each line as written, and its record. */
async function* iterate(records: ExportRecord[]): AsyncGenerator<StoredLine> {
  for (const record of records) yield { line: toLine(record), record };
}

async function collectLines(source: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of source) out.push(line);
  return out;
}

function parseLines(lines: string[]): ExportRecord[] {
  return lines.map((line) => {
    expect(line.endsWith('\n')).toBe(true);
    return JSON.parse(line) as ExportRecord;
  });
}

describe('mergeSorted', () => {
  it('yields the union of stored and fresh records, sorted by receive time', async () => {
    const stored = [record(1, T0), record(3, T0 + 20), record(5, T0 + 40)];
    const fresh = [record(2, T0 + 10), record(4, T0 + 30), record(6, T0 + 50)];
    const out = parseLines(await collectLines(mergeSorted(iterate(stored), fresh)));
    expect(out.map((r) => r.serialNo)).toEqual([1, 2, 3, 4, 5, 6].map((n) => record(n, 0).serialNo));
  });

  it('a fresh record replaces the stored one with the same serialNo, at its own time', async () => {
    const stored = [
      record(1, T0),
      record(2, T0 + 10, { reportStatus: 'FAIL', description: 'UNKNOWN' }),
      record(3, T0 + 20),
    ];
    const fresh = [record(2, T0 + 30, { reportStatus: 'SUCCESS', description: 'DELIVRD' })];
    const out = parseLines(await collectLines(mergeSorted(iterate(stored), fresh)));
    expect(out.map((r) => r.serialNo)).toEqual([record(1, 0).serialNo, record(3, 0).serialNo, record(2, 0).serialNo]);
    expect(out[2]).toEqual(fresh[0]);
  });

  it('with nothing stored yields the fresh records; with nothing fresh yields the stored ones', async () => {
    const records = [record(1, T0), record(2, T0 + 1)];
    expect(parseLines(await collectLines(mergeSorted(iterate([]), records)))).toEqual(records);
    expect(parseLines(await collectLines(mergeSorted(iterate(records), [])))).toEqual(records);
    expect(await collectLines(mergeSorted(iterate([]), []))).toEqual([]);
  });

  it('passes stored lines through exactly as they were written', async () => {
    const stored: StoredLine[] = [
      {
        line: '{"serialNo":"s1","userReceiveTime":10,"note":"written by an older version"}',
        record: { serialNo: 's1', userReceiveTime: T0 },
      },
      { line: toLine(record(3, T0 + 20)), record: record(3, T0 + 20) },
    ];
    async function* source(): AsyncGenerator<StoredLine> {
      yield* stored;
    }
    const out = await collectLines(mergeSorted(source(), [record(2, T0 + 10)]));
    expect(out).toEqual([`${stored[0]?.line}\n`, `${toLine(record(2, T0 + 10))}\n`, `${stored[1]?.line}\n`]);
  });

  it('breaks receive-time ties by serialNo', async () => {
    const stored = [record(2, T0), record(4, T0)];
    const fresh = [record(1, T0), record(3, T0), record(5, T0)];
    const out = parseLines(await collectLines(mergeSorted(iterate(stored), fresh)));
    expect(out.map((r) => r.serialNo)).toEqual([1, 2, 3, 4, 5].map((n) => record(n, 0).serialNo));
  });
});

describe('mergeInto', () => {
  it('creates a gzip JSON Lines object of the records, sorted, with an application/gzip type', async () => {
    const store = memoryStore();
    const records = [record(3, T0 + 30), record(1, T0 + 10), record(2, T0 + 20)];
    await mergeInto(store, BUCKET, KEY, records);
    const object = store.objects.get(`${BUCKET}/${KEY}`);
    expect(object?.contentType).toBe('application/gzip');
    expect(object?.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const text = gunzipSync(object?.body as Buffer).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n').filter(Boolean)).toEqual([...records].sort(byReceiveTime).map(toLine));
  });

  it('adds to what the object holds: the union, without duplicate serialNo', async () => {
    const store = memoryStore();
    await mergeInto(store, BUCKET, KEY, [record(1, T0), record(2, T0 + 10), record(3, T0 + 20)]);
    await mergeInto(store, BUCKET, KEY, [
      record(2, T0 + 10),
      record(3, T0 + 20),
      record(4, T0 + 5),
      record(5, T0 + 50),
    ]);
    const lines = store.lines<ExportRecord>(BUCKET, KEY);
    expect(lines.map((r) => r.serialNo)).toEqual([1, 4, 2, 3, 5].map((n) => record(n, 0).serialNo));
    expect(new Set(lines.map((r) => r.serialNo)).size).toBe(lines.length);
  });

  it('a fresh record replaces the stored record with the same serialNo', async () => {
    const store = memoryStore();
    await mergeInto(store, BUCKET, KEY, [
      record(1, T0, { reportStatus: 'FAIL', description: 'UNKNOWN' }),
      record(2, T0 + 1),
    ]);
    await mergeInto(store, BUCKET, KEY, [record(1, T0)]);
    expect(store.lines<ExportRecord>(BUCKET, KEY)).toEqual([record(1, T0), record(2, T0 + 1)]);
  });

  it('re-running the same records leaves the same bytes', async () => {
    const store = memoryStore();
    const records = Array.from({ length: 50 }, (_, i) => record(i, T0 + ((i * 37) % 11)));
    await mergeInto(store, BUCKET, KEY, records);
    const first = Buffer.from(store.get(BUCKET, KEY) as Buffer);
    await mergeInto(store, BUCKET, KEY, records);
    await mergeInto(store, BUCKET, KEY, [...records].reverse());
    await mergeInto(store, BUCKET, KEY, records.slice(10, 20));
    await mergeInto(store, BUCKET, KEY, []);
    expect(store.get(BUCKET, KEY)?.equals(first)).toBe(true);
  });

  it('any batching and order of the same records gives the same bytes as writing them at once', async () => {
    const recordsArb = fc
      .uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 40 })
      .chain((serials) =>
        fc.tuple(
          fc.constant(serials),
          fc.array(fc.integer({ min: 0, max: 20 }), { minLength: serials.length, maxLength: serials.length }),
          // Each record goes to one or more batches (re-runs and overlapping windows).
          fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), {
            minLength: serials.length,
            maxLength: serials.length,
          }),
        ),
      );
    await fc.assert(
      fc.asyncProperty(recordsArb, async ([serials, offsets, batchesOf]) => {
        const records = serials.map((serial, i) => record(serial, T0 + (offsets[i] as number)));
        const once = memoryStore();
        await mergeInto(once, BUCKET, KEY, records);
        const batched = memoryStore();
        for (let batch = 3; batch >= 0; batch--) {
          await mergeInto(
            batched,
            BUCKET,
            KEY,
            records.filter((_, i) => (batchesOf[i] as number[]).includes(batch)),
          );
        }
        expect(batched.get(BUCKET, KEY)?.equals(once.get(BUCKET, KEY) as Buffer)).toBe(true);
        const lines = batched.lines<ExportRecord>(BUCKET, KEY);
        expect(lines).toEqual([...records].sort(byReceiveTime));
      }),
      { numRuns: 60 },
    );
  });

  it('keeps the records of other numbers sharing the object', async () => {
    const store = memoryStore();
    const other = { phoneNumber: '+8613800138000', subscriberNumber: '13800138000' };
    await mergeInto(store, BUCKET, KEY, [record(1, T0 + 10, other), record(2, T0 + 20, other)]);
    await mergeInto(store, BUCKET, KEY, [record(3, T0 + 15), record(4, T0 + 5)]);
    const lines = store.lines<ExportRecord>(BUCKET, KEY);
    expect(lines.map((r) => [r.serialNo, r.phoneNumber])).toEqual([
      [record(4, 0).serialNo, '+8613711112222'],
      [record(1, 0).serialNo, '+8613800138000'],
      [record(3, 0).serialNo, '+8613711112222'],
      [record(2, 0).serialNo, '+8613800138000'],
    ]);
  });
});

describe('one version per receipt (the merge rule)', () => {
  const sid = 7;
  const failAt10 = record(sid, T0, { reportStatus: 'FAIL', description: 'UNDELIV' });
  const successAt1005 = record(sid, T0 + 300, { reportStatus: 'SUCCESS', description: 'DELIVRD' });

  it('a redelivered older version never brings back a status a later receipt replaced', async () => {
    const store = memoryStore();
    await mergeInto(store, BUCKET, KEY, [failAt10]);
    await mergeInto(store, BUCKET, KEY, [successAt1005]);
    await mergeInto(store, BUCKET, KEY, [failAt10]);
    expect(store.lines<ExportRecord>(BUCKET, KEY)).toEqual([successAt1005]);
  });

  it('keeps the stored later version beside other records of the batch, which still land', async () => {
    const store = memoryStore();
    await mergeInto(store, BUCKET, KEY, [record(1, T0 - 50), successAt1005, record(3, T0 + 500)]);
    await mergeInto(store, BUCKET, KEY, [failAt10, record(2, T0 + 100)]);
    expect(store.lines<ExportRecord>(BUCKET, KEY)).toEqual([
      record(1, T0 - 50),
      record(2, T0 + 100),
      successAt1005,
      record(3, T0 + 500),
    ]);
  });

  it('on equal receive times, the same version wins whichever is stored first', async () => {
    const a = record(sid, T0, { reportStatus: 'FAIL', description: 'EXPIRED' });
    const b = record(sid, T0, { reportStatus: 'FAIL', description: 'UNDELIV' });
    const ab = memoryStore();
    await mergeInto(ab, BUCKET, KEY, [a]);
    await mergeInto(ab, BUCKET, KEY, [b]);
    const ba = memoryStore();
    await mergeInto(ba, BUCKET, KEY, [b]);
    await mergeInto(ba, BUCKET, KEY, [a]);
    expect(ab.get(BUCKET, KEY)?.equals(ba.get(BUCKET, KEY) as Buffer)).toBe(true);
    expect(ab.lines<ExportRecord>(BUCKET, KEY)).toHaveLength(1);
  });

  it('any permutation and batching of any set of versions gives the same object (fixed seed)', async () => {
    const version = fc.record({
      serial: fc.integer({ min: 0, max: 5 }),
      offset: fc.integer({ min: 0, max: 6 }),
      status: fc.constantFrom('SUCCESS', 'FAIL'),
      description: fc.constantFrom('DELIVRD', 'UNDELIV', 'EXPIRED'),
    });
    const scenario = fc
      .array(version, { minLength: 1, maxLength: 14 })
      .chain((versions) =>
        fc.tuple(
          fc.constant(versions),
          fc.shuffledSubarray(versions, { minLength: versions.length }),
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: versions.length, maxLength: versions.length }),
        ),
      );
    await fc.assert(
      fc.asyncProperty(scenario, async ([versions, permuted, batchOf]) => {
        const asRecord = (v: (typeof versions)[number]): ExportRecord =>
          record(v.serial, T0 + v.offset, { reportStatus: v.status, description: v.description });
        const once = memoryStore();
        await mergeInto(once, BUCKET, KEY, versions.map(asRecord));
        const inTurns = memoryStore();
        for (let batch = 0; batch <= 3; batch++) {
          await mergeInto(inTurns, BUCKET, KEY, permuted.filter((_, i) => batchOf[i] === batch).map(asRecord));
        }
        const oneByOne = memoryStore();
        for (const v of [...permuted].reverse()) await mergeInto(oneByOne, BUCKET, KEY, [asRecord(v)]);
        expect(inTurns.get(BUCKET, KEY)?.equals(once.get(BUCKET, KEY) as Buffer)).toBe(true);
        expect(oneByOne.get(BUCKET, KEY)?.equals(once.get(BUCKET, KEY) as Buffer)).toBe(true);
        const lines = once.lines<ExportRecord>(BUCKET, KEY);
        expect(new Set(lines.map((r) => r.serialNo)).size).toBe(lines.length);
      }),
      { seed: 20261205, numRuns: 200 },
    );
  });
});

describe('mergeInto: what it reports, and another writer at the same object', () => {
  it('reports the receipts new to the object, and those whose status or code changed (not a later time)', async () => {
    const store = memoryStore();
    const failed = { reportStatus: 'FAIL', description: 'UNDELIV' };
    const first = [record(1, T0, failed), record(2, T0 + 1)];
    expect((await mergeInto(store, BUCKET, KEY, first)).changes).toEqual({ added: first, updated: [] });
    const again = [record(1, T0 + 60), record(2, T0 + 61), record(3, T0 + 2), record(2, T0 + 1)];
    const { changes } = await mergeInto(store, BUCKET, KEY, again);
    const updated = [{ record: record(1, T0 + 60), previous: failed }];
    expect(changes).toEqual({ added: [record(3, T0 + 2)], updated });
    const older = [record(1, T0 - 60, failed)];
    expect((await mergeInto(store, BUCKET, KEY, older)).changes).toEqual({ added: [], updated: [] });
  });

  it('a fresh version written out before a later stored one turns up is dropped, the merge done again', async () => {
    const store = memoryStore();
    await mergeInto(store, BUCKET, KEY, [record(1, T0 + 50), record(2, T0 + 100)]);
    const before = Buffer.from(store.get(BUCKET, KEY) as Buffer);
    const older = record(2, T0, { reportStatus: 'FAIL', description: 'UNDELIV' });
    const { changes } = await mergeInto(store, BUCKET, KEY, [older]);
    expect(changes).toEqual({ added: [], updated: [] });
    expect(store.get(BUCKET, KEY)?.equals(before)).toBe(true);
  });

  it('another writer between its read and write: it reads again and merges; both writers’ records stay', async () => {
    const store = memoryStore();
    await mergeInto(store, BUCKET, KEY, [record(1, T0)]);
    let raced = false;
    const racing: ObjectStore = {
      ...store,
      read: async (bucket, key) => {
        const object = await store.read(bucket, key);
        if (!raced) {
          raced = true;
          await mergeInto(store, BUCKET, KEY, [record(2, T0 + 10)]);
        }
        return object;
      },
    };
    await mergeInto(racing, BUCKET, KEY, [record(3, T0 + 20)]);
    expect(store.lines<ExportRecord>(BUCKET, KEY)).toEqual([record(1, T0), record(2, T0 + 10), record(3, T0 + 20)]);
  });
});

describe('mergeInto: a corrupt object', () => {
  const PREFIX = 'sms-status';
  const numbers = ['+8613800138000', '+8613711112222'];
  const stored = Array.from({ length: 40 }, (_, i) => record(i, T0 + i, { phoneNumber: numbers[i % 2] as string }));

  /** The object written whole, then truncated: its first lines are still readable. */
  async function truncated(store: ReturnType<typeof memoryStore>): Promise<Buffer> {
    await mergeInto(store, BUCKET, KEY, stored);
    const whole = store.get(BUCKET, KEY) as Buffer;
    const damaged = whole.subarray(0, Math.floor(whole.length * 0.6));
    store.put(BUCKET, KEY, damaged);
    return damaged;
  }

  it('without a prefix to keep it under, the merge fails naming the object and leaves it as it is', async () => {
    const store = memoryStore();
    const damaged = await truncated(store);
    const error = await mergeInto(store, BUCKET, KEY, [record(100, T0)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptObject);
    expect((error as CorruptObject).key).toBe(KEY);
    expect(store.get(BUCKET, KEY)?.equals(damaged)).toBe(true);
  });

  it('is copied aside, its day owed in the lake’s ledger, and rebuilt of its readable lines and the new', async () => {
    const store = memoryStore();
    const damaged = await truncated(store);
    const readable = (await readableLines(KEY, damaged)).map((l) => l.record as ExportRecord);
    expect(readable.length).toBeGreaterThan(0);
    const options = { prefix: PREFIX, now: () => Date.UTC(2024, 4, 2) };
    const outcome = await mergeInto(store, BUCKET, KEY, [record(100, T0 + 5)], options);
    const movedTo = quarantineKey(PREFIX, KEY, createHash('sha256').update(damaged).digest('hex'));
    const error = expect.stringMatching(/^lake object .* is corrupt/);
    expect(outcome.quarantined).toEqual({ key: KEY, movedTo, error });
    expect(store.get(BUCKET, movedTo)?.equals(damaged)).toBe(true);
    expect(store.json<Ledger>(BUCKET, ledgerKey(PREFIX))?.rebuilds).toEqual([
      {
        key: KEY,
        day: '2024-05-01',
        group: 3,
        copies: [movedTo],
        numbersRead: [...new Set(readable.map((r) => r.phoneNumber))],
        foundAt: new Date(Date.UTC(2024, 4, 2)).toISOString(),
        owners: [],
        paid: {},
        lost: {},
      },
    ]);
    expect(store.lines<ExportRecord>(BUCKET, KEY)).toEqual([...readable, record(100, T0 + 5)].sort(byReceiveTime));
    // The ledger is written before the object is rewritten: a writer killed in between leaves the day owed.
    expect(store.writes.indexOf(ledgerKey(PREFIX))).toBeLessThan(store.writes.lastIndexOf(KEY));
  });

  it('a copy of the same bytes already kept (another writer found it first) is no failure', async () => {
    const store = memoryStore();
    const damaged = await truncated(store);
    const movedTo = quarantineKey(PREFIX, KEY, createHash('sha256').update(damaged).digest('hex'));
    store.put(BUCKET, movedTo, damaged);
    const outcome = await mergeInto(store, BUCKET, KEY, [record(100, T0 + 5)], { prefix: PREFIX });
    expect(outcome.quarantined?.movedTo).toBe(movedTo);
    expect(store.lines<ExportRecord>(BUCKET, KEY)).toContainEqual(record(100, T0 + 5));
  });
});
