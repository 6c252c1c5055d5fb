import { describe, expect, it } from 'vitest';
import { MAX_EVENT_NUMBERS, numberReport, PLAN_PROBLEMS, resolveNumbers } from '#lib/export/numbers.ts';
import { InvalidInput } from '#lib/errors.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { rejection } from '../../support/net.ts';

const A = '+8613711112222';
const B = '+8613800138000';
const C = '+14155550123';
const D = '+8615000150000';
const MAX_BYTES = 1024;

function invalid(error: unknown, field: string): InvalidInput {
  expect(error).toBeInstanceOf(InvalidInput);
  const e = error as InvalidInput;
  expect(e.name).toBe('InvalidInput');
  expect(e.field).toBe(field);
  expect(e.retryable).toBe(false);
  return e;
}

describe('resolveNumbers', () => {
  it('takes the event list: valid numbers sorted and unique, bad entries reported by position', async () => {
    const resolved = await resolveNumbers(
      { phoneNumbers: [B, A, 'nope', B, 13711112222] },
      {},
      memoryStore(),
      MAX_BYTES,
    );
    expect(resolved.numbers).toEqual([A, B]);
    expect(resolved.problems.map((p) => p.line)).toEqual([3, 5]);
    expect(resolved.problemCount).toBe(2);
    expect(resolved.duplicates).toBe(1);
  });

  it('unites the event list and the manifest', async () => {
    const store = memoryStore();
    store.put('lists', 'numbers.txt', `${B}\n${C}\nbad line\n`);
    const resolved = await resolveNumbers(
      { phoneNumbers: [A, B], manifest: 's3://lists/numbers.txt' },
      {},
      store,
      MAX_BYTES,
    );
    expect(resolved.numbers).toEqual([C, A, B].sort());
    expect(resolved.problems).toEqual([{ line: 3, reason: expect.stringMatching(/E\.164/) }]);
    expect(resolved.problemCount).toBe(1);
    // B is in both.
    expect(resolved.duplicates).toBe(1);
  });

  it('reads a CSV manifest alone', async () => {
    const store = memoryStore();
    store.put('lists', 'numbers.csv', `\uFEFFid,phoneNumber\r\n1,"${A}"\r\n2,${D}\r\n`);
    const resolved = await resolveNumbers({ manifest: 's3://lists/numbers.csv' }, {}, store, MAX_BYTES);
    expect(resolved).toEqual({ numbers: [A, D], problems: [], problemCount: 0, duplicates: 0 });
  });

  it('uses the configured numbers and manifest when the event has neither', async () => {
    const store = memoryStore();
    store.put('lists', 'numbers.txt', `${C}\n`);
    const resolved = await resolveNumbers(
      {},
      { phoneNumbers: [A], manifest: 's3://lists/numbers.txt' },
      store,
      MAX_BYTES,
    );
    expect(resolved.numbers).toEqual([C, A]);
  });

  it('numbers in the event replace the configured ones', async () => {
    const store = memoryStore();
    store.put('lists', 'numbers.txt', `${C}\n`);
    const resolved = await resolveNumbers(
      { phoneNumbers: [B] },
      { phoneNumbers: [A], manifest: 's3://lists/numbers.txt' },
      store,
      MAX_BYTES,
    );
    expect(resolved.numbers).toEqual([B]);
  });

  it('a manifest that does not exist is InvalidInput on field manifest, naming it', async () => {
    const e = invalid(
      await rejection(() => resolveNumbers({ manifest: 's3://lists/missing.txt' }, {}, memoryStore(), MAX_BYTES)),
      'manifest',
    );
    expect(e.message).toContain('s3://lists/missing.txt');
  });

  it.each([['https://lists.s3.amazonaws.com/numbers.txt'], ['s3://lists'], [42], [['s3://lists/a']]])(
    'a manifest that is not an s3:// URL (%j) is InvalidInput on field manifest',
    async (manifest) => {
      invalid(await rejection(() => resolveNumbers({ manifest }, {}, memoryStore(), MAX_BYTES)), 'manifest');
    },
  );

  it('a manifest over the size limit is InvalidInput on field manifest', async () => {
    const store = memoryStore();
    store.put('lists', 'big.txt', `${A}\n`.repeat(200));
    const e = invalid(
      await rejection(() => resolveNumbers({ manifest: 's3://lists/big.txt' }, {}, store, MAX_BYTES)),
      'manifest',
    );
    expect(e.message).toContain(String(MAX_BYTES));
  });

  it('a manifest of exactly the size limit is read', async () => {
    const store = memoryStore();
    const text = `${A}\n`.padEnd(MAX_BYTES, '\n');
    store.put('lists', 'edge.txt', text);
    expect((await resolveNumbers({ manifest: 's3://lists/edge.txt' }, {}, store, MAX_BYTES)).numbers).toEqual([A]);
  });

  it('no numbers anywhere is InvalidInput', async () => {
    for (const [request, defaults] of [
      [{}, {}],
      [{ phoneNumbers: [] }, {}],
      [{ phoneNumbers: null, manifest: '' }, {}],
      [{}, { phoneNumbers: [] }],
    ] as const) {
      const e = invalid(
        await rejection(() =>
          resolveNumbers(request, defaults as { phoneNumbers?: string[] }, memoryStore(), MAX_BYTES),
        ),
        'phoneNumbers',
      );
      expect(e.message).toMatch(/no phone numbers/);
    }
  });

  it('phoneNumbers must be an array of at most MAX_EVENT_NUMBERS', async () => {
    invalid(await rejection(() => resolveNumbers({ phoneNumbers: A }, {}, memoryStore(), MAX_BYTES)), 'phoneNumbers');
    invalid(
      await rejection(() => resolveNumbers({ phoneNumbers: { 0: A } }, {}, memoryStore(), MAX_BYTES)),
      'phoneNumbers',
    );
    const many = Array.from({ length: MAX_EVENT_NUMBERS + 1 }, (_, i) => `+86137${String(i).padStart(8, '0')}`);
    invalid(
      await rejection(() => resolveNumbers({ phoneNumbers: many }, {}, memoryStore(), MAX_BYTES)),
      'phoneNumbers',
    );
    const resolved = await resolveNumbers(
      { phoneNumbers: many.slice(0, MAX_EVENT_NUMBERS) },
      {},
      memoryStore(),
      MAX_BYTES,
    );
    expect(resolved.numbers).toHaveLength(MAX_EVENT_NUMBERS);
  });
});

describe('numberReport', () => {
  it('says how many numbers, with a sample of the problems and their full count, and the duplicates', () => {
    const problems = Array.from({ length: PLAN_PROBLEMS + 5 }, (_, i) => ({ line: i + 1, reason: 'not E.164' }));
    const report = numberReport({ numbers: [A, B, C], problems, problemCount: 1000, duplicates: 4 });
    expect(report).toEqual({ total: 3, problems: problems.slice(0, PLAN_PROBLEMS), problemCount: 1000, duplicates: 4 });
    expect(JSON.stringify(report)).not.toContain(A);
  });
});
