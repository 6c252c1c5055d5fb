import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  conditionFor,
  readBytes,
  readJson,
  readText,
  updateJson,
  withConflictRetry,
  writeJson,
  WriteConflict,
  type ObjectStore,
} from '#lib/lake/store.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';
import { rejection } from '../../support/net.ts';

const BUCKET = 'exports';
const KEY = 'sms-status/_state/job/checkpoint.json';

/** The policy of withConflictRetry with its pauses recorded instead of slept, and a fixed draw. */
function recorded(attempts: number, draw = 0.5): { pauses: number[]; policy: Parameters<typeof withConflictRetry>[1] } {
  const pauses: number[] = [];
  return { pauses, policy: { attempts, baseDelayMs: 20, random: () => draw, sleep: async (ms) => pauses.push(ms) } };
}

/** A store where `other` writes the object once, between this writer's first read of `key` and its write. */
function racing(store: MemoryStore, key: string, other: () => Promise<unknown>): ObjectStore {
  let raced = false;
  return {
    read: async (bucket, k) => {
      const object = await store.read(bucket, k);
      if (k === key && !raced) {
        raced = true;
        await other();
      }
      return object;
    },
    write: (bucket, k, body, options) => store.write(bucket, k, body, options),
    delete: (bucket, k) => store.delete(bucket, k),
  };
}

describe('conditionFor', () => {
  it('creates only when nothing was read; else replaces exactly the version read', () => {
    expect(conditionFor(undefined)).toEqual({ ifNoneMatch: '*' });
    expect(conditionFor('"abc"')).toEqual({ ifMatch: '"abc"' });
  });
});

describe('readBytes and readText', () => {
  it('reads a stream whole, in order', async () => {
    const bytes = await readBytes(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4, 'object');
    expect(bytes.toString()).toBe('abcd');
  });

  it('refuses a stream a byte over the limit with a RangeError naming it, and lets it go', async () => {
    const stream = Readable.from([Buffer.from('abc'), Buffer.from('de')]);
    const error = await rejection(() => readBytes(stream, 4, 's3://exports/big'));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('s3://exports/big is larger than 4 bytes');
    expect(stream.destroyed).toBe(true);
  });

  it('readText: an object’s text, undefined for no object, a RangeError past the limit', async () => {
    const store = memoryStore();
    store.put(BUCKET, 'lists/a.txt', 'héllo');
    expect(await readText(store, BUCKET, 'lists/a.txt', 6)).toBe('héllo');
    expect(await readText(store, BUCKET, 'lists/missing.txt', 6)).toBeUndefined();
    expect(await rejection(() => readText(store, BUCKET, 'lists/a.txt', 5))).toBeInstanceOf(RangeError);
  });
});

describe('readJson and writeJson', () => {
  it('write a JSON line and read it back with the version that was written', async () => {
    const store = memoryStore();
    const etag = await writeJson(store, BUCKET, KEY, { endTime: 1 });
    expect(store.get(BUCKET, KEY)?.toString()).toBe('{"endTime":1}\n');
    expect(store.objects.get(`${BUCKET}/${KEY}`)?.contentType).toBe('application/json');
    expect(await readJson(store, BUCKET, KEY)).toEqual({ value: { endTime: 1 }, etag });
    expect(await readJson(store, BUCKET, 'nothing.json')).toBeUndefined();
  });

  it('a write on condition of a version gone is a WriteConflict naming the key; the object stays', async () => {
    const store = memoryStore();
    const first = await writeJson(store, BUCKET, KEY, { endTime: 1 });
    await writeJson(store, BUCKET, KEY, { endTime: 2 }, conditionFor(first));
    const error = await rejection(() => writeJson(store, BUCKET, KEY, { endTime: 3 }, conditionFor(first)));
    expect(error).toBeInstanceOf(WriteConflict);
    expect((error as WriteConflict).key).toBe(KEY);
    const create = await rejection(() => writeJson(store, BUCKET, KEY, { endTime: 4 }, conditionFor(undefined)));
    expect(create).toBeInstanceOf(WriteConflict);
    expect(store.json(BUCKET, KEY)).toEqual({ endTime: 2 });
  });
});

describe('withConflictRetry', () => {
  it('tries again while another writer wins, pausing a jittered, doubling time between tries', async () => {
    const { pauses, policy } = recorded(5);
    let tries = 0;
    const answer = await withConflictRetry(async () => {
      if (++tries < 4) throw new WriteConflict(BUCKET, KEY);
      return 'written';
    }, policy);
    expect(answer).toBe('written');
    expect(tries).toBe(4);
    expect(pauses).toEqual([10, 20, 40]);
  });

  it('gives up after its attempts with the conflict itself', async () => {
    const { pauses, policy } = recorded(3);
    let tries = 0;
    const error = await rejection(() =>
      withConflictRetry(async () => {
        tries += 1;
        throw new WriteConflict(BUCKET, KEY);
      }, policy),
    );
    expect(error).toBeInstanceOf(WriteConflict);
    expect(tries).toBe(3);
    expect(pauses).toHaveLength(2);
  });

  it('any other error ends it at once', async () => {
    const { pauses, policy } = recorded(5);
    let tries = 0;
    const error = await rejection(() =>
      withConflictRetry(async () => {
        tries += 1;
        throw new Error('S3 500');
      }, policy),
    );
    expect((error as Error).message).toBe('S3 500');
    expect(tries).toBe(1);
    expect(pauses).toEqual([]);
  });
});

describe('updateJson', () => {
  it('writes the change of what it read, and answers the value written', async () => {
    const store = memoryStore();
    const seen: unknown[] = [];
    const change = (current: number[] | undefined): number[] => {
      seen.push(current);
      return [...(current ?? []), seen.length];
    };
    expect(await updateJson(store, BUCKET, KEY, change)).toEqual([1]);
    expect(await updateJson(store, BUCKET, KEY, change)).toEqual([1, 2]);
    expect(seen).toEqual([undefined, [1]]);
    expect(store.json(BUCKET, KEY)).toEqual([1, 2]);
  });

  it('a change that answers undefined writes nothing, and answers what the object holds', async () => {
    const store = memoryStore();
    expect(await updateJson(store, BUCKET, KEY, () => undefined)).toBeUndefined();
    await writeJson(store, BUCKET, KEY, [7]);
    const writes = store.writes.length;
    expect(await updateJson<number[]>(store, BUCKET, KEY, () => undefined)).toEqual([7]);
    expect(store.writes).toHaveLength(writes);
  });

  it('another writer in between: reads again and redoes the change, so neither change is lost', async () => {
    const store = memoryStore();
    await writeJson(store, BUCKET, KEY, ['first']);
    const add =
      (item: string) =>
      (current: string[] = []) => [...current, item];
    const other = racing(store, KEY, () => updateJson(store, BUCKET, KEY, add('other')));
    const { policy } = recorded(3);
    expect(await updateJson(other, BUCKET, KEY, add('mine'), policy)).toEqual(['first', 'other', 'mine']);
    expect(store.json(BUCKET, KEY)).toEqual(['first', 'other', 'mine']);
  });
});
