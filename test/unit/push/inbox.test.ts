import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { groupOf, inboxPrefix, objectKey } from '#lib/lake/layout.ts';
import type { ListingStore } from '#lib/lake/store.ts';
import { mergeInto } from '#lib/lake/merge.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { INBOX_DEFAULTS } from '#lib/config.ts';
import { drainInbox, storeBatch, type InboxSettings } from '#lib/push/inbox.ts';
import { uniqueBySerial } from '#lib/lake/versions.ts';
import { utcDay } from '#lib/utc-day.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';

const BUCKET = 'exports';
const PREFIX = 'sms-status';
const SETTINGS: InboxSettings = { ...INBOX_DEFAULTS, bucket: BUCKET, prefix: PREFIX };
const T0 = Date.UTC(2024, 4, 1, 10) / 1000;
const NUMBERS = ['+8613711112222', '+8613800138000', '+14155550123', '+447700900123', '+8615000150000'];

function record(
  serial: number,
  at: number,
  phoneNumber = NUMBERS[serial % NUMBERS.length] as string,
  overrides: Partial<ExportRecord> = {},
): ExportRecord {
  const countryCode = phoneNumber.startsWith('+86') ? '86' : phoneNumber.startsWith('+1') ? '1' : '44';
  return {
    serialNo: `sid-${String(serial).padStart(6, '0')}`,
    phoneNumber,
    countryCode,
    subscriberNumber: phoneNumber.slice(1 + countryCode.length),
    reportStatus: 'SUCCESS',
    description: 'DELIVRD',
    userReceiveTime: at,
    sdkAppId: '1400000000',
    ...overrides,
  };
}

/** Everything the lake holds, object by object. */
function lake(store: MemoryStore): Map<string, ExportRecord[]> {
  return new Map(store.keys(BUCKET, `${PREFIX}/statuses/`).map((key) => [key, store.lines<ExportRecord>(BUCKET, key)]));
}

/** The lake's records, sorted by serialNo, after checking each sits in its own day and group's object and none is there twice. */
function lakeRecords(store: MemoryStore): ExportRecord[] {
  const all: ExportRecord[] = [];
  for (const [key, records] of lake(store)) {
    for (const r of records) expect(key).toBe(objectKey(PREFIX, utcDay(r.userReceiveTime), groupOf(r.phoneNumber)));
    all.push(...records);
  }
  expect(new Set(all.map((r) => r.serialNo)).size).toBe(all.length);
  return all.sort((a, b) => a.serialNo.localeCompare(b.serialNo));
}

const bySerial = (records: ExportRecord[]): ExportRecord[] =>
  uniqueBySerial(records).sort((a, b) => a.serialNo.localeCompare(b.serialNo));

describe('storeBatch', () => {
  it('stores a batch as one gzip JSON Lines object named by its content, and a redelivery changes nothing', async () => {
    const store = memoryStore();
    const batch = [record(2, T0 + 5), record(1, T0 + 1), record(3, T0 + 9)];
    const first = await storeBatch(store, SETTINGS, batch);
    expect(first.created).toBe(true);
    expect(first.key).toMatch(/^sms-status\/_inbox\/2024-05-01T10\/[0-9a-f]{64}\.jsonl\.gz$/);
    const again = await storeBatch(store, SETTINGS, [...batch].reverse());
    expect(again).toEqual({ ...first, created: false });
    expect(store.keys(BUCKET, inboxPrefix(PREFIX))).toEqual([first.key]);
    expect(store.writes).toEqual([first.key]);
    expect(store.lines<ExportRecord>(BUCKET, first.key as string).map((r) => r.serialNo)).toEqual([
      'sid-000001',
      'sid-000002',
      'sid-000003',
    ]);
  });

  it('names a different batch differently, and stores nothing for an empty one', async () => {
    const store = memoryStore();
    const a = await storeBatch(store, SETTINGS, [record(1, T0)]);
    const b = await storeBatch(store, SETTINGS, [
      record(1, T0, undefined, { reportStatus: 'FAIL', description: 'UNDELIV' }),
    ]);
    expect(a.key).not.toBe(b.key);
    expect(await storeBatch(store, SETTINGS, [])).toEqual({ created: false, receipts: 0 });
    expect(store.keys(BUCKET, inboxPrefix(PREFIX))).toHaveLength(2);
  });

  it('fails when the store fails: the receiver must not answer OK', async () => {
    const store = memoryStore();
    store.write = async () => {
      throw new Error('S3 is down');
    };
    await expect(storeBatch(store, SETTINGS, [record(1, T0)])).rejects.toThrow('S3 is down');
  });
});

describe('drainInbox', () => {
  it('merges every batch into its day and group objects, de-duplicated with the lake, and empties the inbox', async () => {
    const store = memoryStore();
    // Already in the lake (pulled by the export): sid 1 and 2, sid 2 with an older status.
    const pulled = [record(1, T0 + 1), record(2, T0 + 2, undefined, { reportStatus: 'FAIL', description: 'UNKNOWN' })];
    for (const r of pulled)
      await mergeInto(store, BUCKET, objectKey(PREFIX, utcDay(r.userReceiveTime), groupOf(r.phoneNumber)), [r]);
    const pushed = [
      [record(2, T0 + 2), record(3, T0 + 3), record(4, T0 + 86_400)],
      [record(4, T0 + 86_400), record(5, T0 + 5), record(6, T0 - 3600 * 11)],
      [record(1, T0 + 1)],
    ];
    for (const batch of pushed) await storeBatch(store, SETTINGS, batch);
    const lakeWritesBefore = store.writes.length;

    const summary = await drainInbox({ store }, SETTINGS);

    expect(summary).toMatchObject({ objects: 3, records: 6, quarantined: 0, remaining: false, corruptObjects: [] });
    const expected = bySerial(
      [...pulled, ...pushed.flat()].map((r) => (r.serialNo === 'sid-000002' ? record(2, T0 + 2) : r)),
    );
    expect(lakeRecords(store)).toEqual(expected);
    // One conditional merge per (day, group) object touched.
    const touched = new Set(expected.map((r) => objectKey(PREFIX, utcDay(r.userReceiveTime), groupOf(r.phoneNumber))));
    expect(summary.merged).toBe(touched.size);
    expect(store.writes.slice(lakeWritesBefore).sort()).toEqual([...touched].sort());
    expect(store.keys(BUCKET, inboxPrefix(PREFIX))).toEqual([]);
    expect(await drainInbox({ store }, SETTINGS)).toMatchObject({
      objects: 0,
      records: 0,
      merged: 0,
      remaining: false,
    });
    // The metrics count what is new to the lake: sids 3–6 (1 and 2 were pulled before; 2 only changed).
    const news = expected.filter((r) => !['sid-000001', 'sid-000002'].includes(r.serialNo));
    const tally: Record<string, number> = {};
    for (const r of news)
      tally[`${r.reportStatus} ${r.countryCode}`] = (tally[`${r.reportStatus} ${r.countryCode}`] ?? 0) + 1;
    expect(news).toHaveLength(4);
    expect(summary.newReceipts).toEqual(tally);
    // Tencent redelivers every batch: merged again, nothing new, nothing counted.
    for (const batch of pushed) await storeBatch(store, SETTINGS, batch);
    expect(await drainInbox({ store }, SETTINGS)).toMatchObject({ objects: 3, records: 6, newReceipts: {} });
  });

  it('retries when a concurrent writer (the export) wins the race, and loses neither side', async () => {
    const inner = memoryStore();
    const pushed = record(10, T0);
    const exported = record(11, T0 + 1, pushed.phoneNumber);
    const key = objectKey(PREFIX, utcDay(T0), groupOf(pushed.phoneNumber));
    await storeBatch(inner, SETTINGS, [pushed]);
    let raced = 0;
    const store: ListingStore = {
      ...inner,
      async write(bucket, k, body, options) {
        if (k === key && raced === 0) {
          raced += 1;
          // The export merges into the same object between the drain's read and its write.
          await mergeInto(inner, bucket, key, [exported]);
        }
        return inner.write(bucket, k, body, options);
      },
    };
    const summary = await drainInbox({ store }, SETTINGS);
    expect(raced).toBe(1);
    expect(summary).toMatchObject({ objects: 1, records: 1, merged: 1 });
    expect(inner.lines<ExportRecord>(BUCKET, key)).toEqual([pushed, exported]);
    expect(inner.keys(BUCKET, inboxPrefix(PREFIX))).toEqual([]);
  });

  it('after a crash between the merge and the delete, merges again and changes nothing', async () => {
    const inner = memoryStore();
    const batches = [
      [record(1, T0), record(2, T0 + 10)],
      [record(3, T0 + 20), record(4, T0 + 86_400 * 2)],
    ];
    for (const batch of batches) await storeBatch(inner, SETTINGS, batch);
    const crashing: ListingStore = {
      ...inner,
      async delete() {
        throw new Error('the Lambda was killed');
      },
    };
    await expect(drainInbox({ store: crashing }, SETTINGS)).rejects.toThrow('killed');
    const afterCrash = new Map(
      [...inner.objects].filter(([k]) => k.includes('/statuses/')).map(([k, o]) => [k, o.body.toString('base64')]),
    );
    expect(inner.keys(BUCKET, inboxPrefix(PREFIX))).toHaveLength(2);

    const summary = await drainInbox({ store: inner }, SETTINGS);
    expect(summary).toMatchObject({ objects: 2, records: 4 });
    const afterRedo = new Map(
      [...inner.objects].filter(([k]) => k.includes('/statuses/')).map(([k, o]) => [k, o.body.toString('base64')]),
    );
    expect(afterRedo).toEqual(afterCrash);
    expect(lakeRecords(inner)).toEqual(bySerial(batches.flat()));
    expect(inner.keys(BUCKET, inboxPrefix(PREFIX))).toEqual([]);
  });

  it('moves a corrupt inbox object to _quarantine/, reports it, and merges the rest', async () => {
    const store = memoryStore();
    await storeBatch(store, SETTINGS, [record(1, T0)]);
    const garbage = `${PREFIX}/_inbox/2024-05-01T10/garbage.jsonl.gz`;
    const notRecords = `${PREFIX}/_inbox/2024-05-01T10/not-records.jsonl.gz`;
    const badNumber = `${PREFIX}/_inbox/2024-05-01T10/bad-number.jsonl.gz`;
    store.put(BUCKET, garbage, Buffer.from('this is not gzip'));
    store.put(BUCKET, notRecords, gzipSync('{"hello":"world"}\n'));
    store.put(BUCKET, badNumber, gzipSync(`${JSON.stringify({ ...record(9, T0), phoneNumber: '13711112222' })}\n`));

    const summary = await drainInbox({ store }, SETTINGS);

    expect(summary).toMatchObject({ objects: 1, records: 1, quarantined: 3, remaining: false });
    expect(summary.quarantinedObjects.map((q) => q.key).sort()).toEqual([badNumber, garbage, notRecords].sort());
    expect(store.get(BUCKET, `${PREFIX}/_quarantine/_inbox/2024-05-01T10/garbage.jsonl.gz`)?.toString()).toBe(
      'this is not gzip',
    );
    expect(store.keys(BUCKET, `${PREFIX}/_quarantine/`)).toHaveLength(3);
    expect(store.keys(BUCKET, inboxPrefix(PREFIX))).toEqual([]);
    expect(lakeRecords(store)).toEqual([record(1, T0)]);
  });

  it('quarantines an object whose receive time no receipt can have, instead of failing every drain after it', async () => {
    const store = memoryStore();
    await storeBatch(store, SETTINGS, [record(1, T0)]);
    // A safe integer, but past what a Date holds (a foreign or damaged object; the receiver cannot write it).
    const farOff = `${PREFIX}/_inbox/2024-05-01T09/far-off.jsonl.gz`;
    const before2000 = `${PREFIX}/_inbox/2024-05-01T09/before-2000.jsonl.gz`;
    store.put(BUCKET, farOff, gzipSync(`${JSON.stringify(record(8, 9_000_000_000_000))}\n`));
    store.put(BUCKET, before2000, gzipSync(`${JSON.stringify(record(9, 86_400))}\n`));

    const summary = await drainInbox({ store }, SETTINGS);

    expect(summary).toMatchObject({ objects: 1, records: 1, quarantined: 2, remaining: false });
    expect(summary.quarantinedObjects.map((q) => q.key).sort()).toEqual([before2000, farOff].sort());
    expect(store.keys(BUCKET, inboxPrefix(PREFIX))).toEqual([]);
    expect(lakeRecords(store)).toEqual([record(1, T0)]);
  });

  it('rebuilds a corrupt lake object from the receipts it merges, and reports it', async () => {
    const store = memoryStore();
    const r = record(1, T0);
    const key = objectKey(PREFIX, utcDay(T0), groupOf(r.phoneNumber));
    store.put(BUCKET, key, Buffer.from('truncated'));
    await storeBatch(store, SETTINGS, [r]);
    const summary = await drainInbox({ store, now: () => T0 * 1000 }, SETTINGS);
    expect(summary.corruptObjects).toEqual([
      {
        key,
        movedTo: expect.stringMatching(
          new RegExp(`^${PREFIX}/_quarantine/${key.slice(PREFIX.length + 1)}\\.[0-9a-f]{32}$`),
        ),
        error: expect.stringContaining('corrupt'),
      },
    ]);
    expect(store.get(BUCKET, summary.corruptObjects[0]?.movedTo as string)?.toString()).toBe('truncated');
    expect(store.lines(BUCKET, key)).toEqual([r]);
  });

  it('takes at most maxObjects, says more remains, and the next drain takes the rest', async () => {
    const store = memoryStore();
    for (let i = 0; i < 5; i++) await storeBatch(store, SETTINGS, [record(i, T0 + i)]);
    const first = await drainInbox({ store }, { ...SETTINGS, maxObjects: 3 });
    expect(first).toMatchObject({ objects: 3, remaining: true });
    expect(store.keys(BUCKET, inboxPrefix(PREFIX))).toHaveLength(2);
    expect(await drainInbox({ store }, { ...SETTINGS, maxObjects: 3 })).toMatchObject({ objects: 2, remaining: false });
    expect(lakeRecords(store)).toHaveLength(5);
  });

  it('stops reading when time runs short, merges what it read, and leaves the rest for later', async () => {
    const store = memoryStore();
    for (let i = 0; i < 6; i++) await storeBatch(store, SETTINGS, [record(i, T0 + i)]);
    let remaining = 70_000;
    const read = store.read.bind(store);
    store.read = async (bucket, key) => {
      remaining -= 4_000;
      return read(bucket, key);
    };
    const summary = await drainInbox({ store, remainingMs: () => remaining }, { ...SETTINGS, readConcurrency: 1 });
    expect(summary.remaining).toBe(true);
    expect(summary.objects).toBeGreaterThan(0);
    expect(summary.objects).toBeLessThan(6);
    expect(store.keys(BUCKET, inboxPrefix(PREFIX))).toHaveLength(6 - summary.objects);
    expect(lakeRecords(store)).toHaveLength(summary.records);
    expect(await drainInbox({ store }, SETTINGS)).toMatchObject({ remaining: false });
    expect(lakeRecords(store)).toHaveLength(6);
  });

  it('stops reading past maxRecords', async () => {
    const store = memoryStore();
    for (let i = 0; i < 4; i++) await storeBatch(store, SETTINGS, [record(i * 2, T0), record(i * 2 + 1, T0)]);
    const summary = await drainInbox({ store }, { ...SETTINGS, maxRecords: 3, readConcurrency: 1 });
    expect(summary).toMatchObject({ objects: 2, records: 4, remaining: true });
  });

  it('whatever arrives, redelivered or not, and however the drains are cut, the lake ends exact (fixed seed)', async () => {
    const receipt = fc.record({
      serial: fc.integer({ min: 0, max: 40 }),
      at: fc.integer({ min: T0 - 86_400, max: T0 + 86_400 }),
      number: fc.constantFrom(...NUMBERS),
      status: fc.constantFrom('SUCCESS', 'FAIL'),
    });
    const batches = fc.array(fc.array(receipt, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(
        batches,
        fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        async (raw, redeliver, maxObjects) => {
          const store = memoryStore();
          // One receipt per sid, as Tencent sends: a sid's receipt is the same wherever it appears.
          const bySid = new Map<number, ExportRecord>();
          const sent = raw.map((batch) =>
            batch.map((r) => {
              if (!bySid.has(r.serial))
                bySid.set(r.serial, record(r.serial, r.at, r.number, { reportStatus: r.status }));
              return bySid.get(r.serial) as ExportRecord;
            }),
          );
          for (const batch of sent) await storeBatch(store, SETTINGS, batch);
          for (const i of redeliver)
            if (sent[i]) await storeBatch(store, SETTINGS, [...(sent[i] as ExportRecord[])].reverse());
          for (let round = 0; round < 20; round++) {
            const { remaining } = await drainInbox({ store }, { ...SETTINGS, maxObjects });
            if (!remaining) break;
          }
          expect(store.keys(BUCKET, inboxPrefix(PREFIX))).toEqual([]);
          expect(lakeRecords(store)).toEqual(bySerial([...bySid.values()]));
        },
      ),
      { seed: 20261127, numRuns: 60 },
    );
  });
});

describe('two drains at once over a corrupt day object', () => {
  /** A truncated gzip day object: ~480 receipts readable before the cut, as a crash mid-upload leaves. */
  function truncatedDayObject(phoneNumber: string): { bytes: Buffer; records: ExportRecord[] } {
    const records = Array.from({ length: 600 }, (_, i) => record(1000 + i, T0 + i, phoneNumber));
    const whole = gzipSync(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    return { bytes: whole.subarray(0, Math.floor(whole.length * 0.8)), records };
  }

  it('keeps the original bytes in _quarantine/ and rebuilds the object once, whichever drain moves first', async () => {
    const inner = memoryStore();
    const pushed = record(1, T0 + 5000);
    const key = objectKey(PREFIX, utcDay(pushed.userReceiveTime), groupOf(pushed.phoneNumber));
    const { bytes, records: held } = truncatedDayObject(pushed.phoneNumber);
    inner.put(BUCKET, key, bytes);
    const original = inner.objects.get(`${BUCKET}/${key}`)?.etag;
    await storeBatch(inner, SETTINGS, [pushed]);
    // Both drains read the corrupt object before either writes; the second reads it again only after
    // the first has rebuilt it (the interleaving that lost the original).
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const rebuilt = (): boolean => inner.objects.get(`${BUCKET}/${key}`)?.etag !== original;
    const drainStore = (late: boolean): ListingStore => {
      let reads = 0;
      return {
        ...inner,
        async read(bucket, k) {
          if (k === key) {
            reads += 1;
            if (reads === 1 && ++arrived === 2) release();
            if (reads === 1) await bothRead;
            if (late && reads > 1) while (!rebuilt()) await new Promise((resolve) => setTimeout(resolve, 1));
          }
          return inner.read(bucket, k);
        },
      };
    };
    const now = () => (T0 + 6000) * 1000;
    const [first, second] = await Promise.all([
      drainInbox({ store: drainStore(false), now }, SETTINGS),
      drainInbox({ store: drainStore(true), now }, SETTINGS),
    ]);
    const quarantined = inner.keys(BUCKET, `${PREFIX}/_quarantine/`).map((k) => inner.get(BUCKET, k) as Buffer);
    expect(quarantined.some((kept) => kept.equals(bytes))).toBe(true);
    expect([...first.corruptObjects, ...second.corruptObjects].map((c) => c.key)).toEqual([key]);
    // Rebuilt once: the receipts still readable in the original, and the pushed one.
    const rebuiltLines = inner.lines<ExportRecord>(BUCKET, key);
    expect(rebuiltLines).toContainEqual(pushed);
    expect(rebuiltLines.length).toBeGreaterThan(400);
    expect(rebuiltLines.filter((r) => r.serialNo !== pushed.serialNo)).toEqual(held.slice(0, rebuiltLines.length - 1));
  });
});
