import { describe, expect, it } from 'vitest';
import { jobIdOf } from '#lib/export/job.ts';
import { MAX_EVENT_NUMBERS, resolveNumbers } from '#lib/export/numbers.ts';
import { explicitWindow, requestOf } from '#lib/export/request.ts';
import { scheduledWindow, windowOf } from '#lib/export/window.ts';
import { InvalidInput } from '#lib/errors.ts';
import { MAX_QUOTED_FIELD_LENGTH } from '#lib/fields.ts';
import { parseQuery, type RawQuery } from '#lib/status/query.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { rejection } from '../../support/net.ts';

const A = '+8613711112222';
const B = '+8613800138000';
const C = '+14155550123';
const D = '+8615000150000';
const NOW = 1_750_000_000;
const SETTINGS = { latenessSeconds: 3600, initialLookbackSeconds: 86400 };
const MAX_BYTES = 1024;

/** An EventBridge (CloudWatch Events) scheduled event as Lambda receives it. */
const SCHEDULED = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2024-05-01T10:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/sms-status-dev-export'],
  detail: {},
};

function invalid(error: unknown, field: string): InvalidInput {
  expect(error).toBeInstanceOf(InvalidInput);
  const e = error as InvalidInput;
  expect(e.name).toBe('InvalidInput');
  expect(e.field).toBe(field);
  expect(e.retryable).toBe(false);
  return e;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('requestOf', () => {
  it('a scheduled EventBridge event, or no event, asks for the configured defaults', () => {
    expect(requestOf(SCHEDULED)).toEqual({});
    expect(requestOf({ source: 'aws.events', 'detail-type': 'Scheduled Event' })).toEqual({});
    expect(requestOf(undefined)).toEqual({});
    expect(requestOf(null)).toEqual({});
    expect(requestOf({})).toEqual({});
  });

  it('passes a direct request through', () => {
    const request = { phoneNumbers: [A], manifest: 's3://b/k', beginTime: 1, endTime: '2024-05-01T00:00:00Z' };
    expect(requestOf(request)).toEqual(request);
  });

  it('the scheduler input of serverless.yml ({manifest: ""}) means the configured defaults', async () => {
    const request = requestOf({ manifest: '' });
    const resolved = await resolveNumbers(request, { phoneNumbers: [A, B] }, memoryStore(), MAX_BYTES);
    expect(resolved.numbers).toEqual([A, B]);
    expect(explicitWindow(request)).toBe(false);
  });

  it('the scheduler input {"schedule": …} exports the configured numbers and manifest, as a bare event does', async () => {
    // serverless.yml schedules the export with `input: {schedule: hourly}`: the configuration applies.
    const store = memoryStore();
    store.put('lists', 'numbers.txt', `${C}\n`);
    const defaults = { phoneNumbers: [A], manifest: 's3://lists/numbers.txt' };
    const bare = await resolveNumbers(requestOf(SCHEDULED), defaults, store, MAX_BYTES);
    expect(bare.numbers).toEqual([C, A]);
    const scheduled = await resolveNumbers(requestOf({ schedule: 'hourly' }), defaults, store, MAX_BYTES);
    expect(scheduled.numbers).toEqual(bare.numbers);
    expect(jobIdOf(requestOf({ schedule: 'hourly' }), defaults)).toBe(jobIdOf(requestOf(SCHEDULED), defaults));
  });

  it('a schedule input stands alone: a field beside it, or a schedule not ours, is refused and named, never dropped', () => {
    invalid(thrown(() => requestOf({ schedule: 'hourly', phoneNumbers: [A] })), 'phoneNumbers');
    invalid(thrown(() => requestOf({ schedule: 'reconcile', beginTime: 1 })), 'beginTime');
    invalid(thrown(() => requestOf({ schedule: 'daily' })), 'schedule');
    invalid(thrown(() => requestOf({ schedule: '' })), 'schedule');
    invalid(thrown(() => requestOf({ source: 'aws.events', junk: true })), 'junk');
    expect(requestOf({ schedule: 'reconcile' })).toEqual({ reconcile: true });
    expect(requestOf({ version: '0', id: 'e', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '1', time: 't', region: 'r', resources: [], detail: {} })).toEqual({});
  });

  it('refuses an unknown field, naming it', () => {
    const e = invalid(thrown(() => requestOf({ phoneNumbers: [A], phoneNumber: A })), 'phoneNumber');
    expect(e.message).toContain("'phoneNumber'");
    expect(e.message).toContain('phoneNumbers, manifest, beginTime, endTime');
    invalid(thrown(() => requestOf({ beginTime: 1, limit: 5 })), 'limit');
  });

  it('cuts an absurdly long unknown field name', () => {
    const name = 'x'.repeat(5000);
    const e = invalid(thrown(() => requestOf({ [name]: 1 })), 'x'.repeat(64));
    expect(e.message.length).toBeLessThan(300);
  });

  it.each([['a string'], [42], [true], [[A, B]]])('refuses a non-object event %j', (event) => {
    const e = invalid(thrown(() => requestOf(event)), 'event');
    expect(e.message).toMatch(/must be an object/);
  });
});

describe('jobIdOf and windowOf', () => {
  it('scheduled runs of the same numbers share a job; other numbers are another job', () => {
    const defaults = { phoneNumbers: [A, B] };
    const id = jobIdOf({}, defaults);
    expect(id).toMatch(/^scheduled-[0-9a-f]{16}$/);
    expect(jobIdOf({}, { phoneNumbers: [A, B] })).toBe(id);
    expect(jobIdOf({}, { phoneNumbers: [A, C] })).not.toBe(id);
    expect(jobIdOf({}, { manifest: 's3://b/k' })).not.toBe(id);
  });

  it('an explicit window is its own job, safe as a key segment', () => {
    const id = jobIdOf({ phoneNumbers: [A], beginTime: '2024-05-01T00:00:00Z' }, {});
    expect(id).toMatch(/^window-[\w.-]+$/);
    expect(id).toContain('now');
    expect(jobIdOf({ phoneNumbers: [A], beginTime: '2024-05-01T00:00:00Z' }, {})).toBe(id);
    expect(jobIdOf({ phoneNumbers: [A], beginTime: '2024-05-02T00:00:00Z' }, {})).not.toBe(id);
    expect(jobIdOf({ phoneNumbers: [B], beginTime: '2024-05-01T00:00:00Z' }, {})).not.toBe(id);
    expect(jobIdOf({ phoneNumbers: [A], beginTime: 1, endTime: 2 }, {})).not.toBe(jobIdOf({ phoneNumbers: [A], beginTime: 1 }, {}));
  });

  it('a scheduled request uses the scheduled window; an explicit one is parsed and checked', () => {
    expect(windowOf({}, undefined, NOW, SETTINGS)).toEqual(scheduledWindow(undefined, NOW, SETTINGS));
    expect(windowOf({}, NOW - 7200, NOW, SETTINGS)).toEqual({ beginTime: NOW - 7200 - 3600, endTime: NOW });
    expect(windowOf({ beginTime: NOW - 100, endTime: NOW - 50 }, NOW - 10, NOW, SETTINGS)).toEqual({ beginTime: NOW - 100, endTime: NOW - 50 });
    expect(windowOf({ beginTime: String(NOW - 100) }, undefined, NOW, SETTINGS)).toEqual({ beginTime: NOW - 100, endTime: NOW });
    invalid(thrown(() => windowOf({ beginTime: NOW - 8 * 86400 }, undefined, NOW, SETTINGS)), 'beginTime');
    invalid(thrown(() => windowOf({ beginTime: NOW - 100, endTime: NOW - 200 }, undefined, NOW, SETTINGS)), 'endTime');
    invalid(thrown(() => windowOf({ beginTime: 'yesterday' }, undefined, NOW, SETTINGS)), 'beginTime');
  });
});

describe('resolveNumbers', () => {
  it('takes the event list: valid numbers sorted and unique, bad entries reported by position', async () => {
    const resolved = await resolveNumbers({ phoneNumbers: [B, A, 'nope', B, 13711112222] }, {}, memoryStore(), MAX_BYTES);
    expect(resolved.numbers).toEqual([A, B]);
    expect(resolved.problems.map((p) => p.line)).toEqual([3, 5]);
    expect(resolved.problemCount).toBe(2);
    expect(resolved.duplicates).toBe(1);
  });

  it('unites the event list and the manifest', async () => {
    const store = memoryStore();
    store.put('lists', 'numbers.txt', `${B}\n${C}\nbad line\n`);
    const resolved = await resolveNumbers({ phoneNumbers: [A, B], manifest: 's3://lists/numbers.txt' }, {}, store, MAX_BYTES);
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
    const resolved = await resolveNumbers({}, { phoneNumbers: [A], manifest: 's3://lists/numbers.txt' }, store, MAX_BYTES);
    expect(resolved.numbers).toEqual([C, A]);
  });

  it('numbers in the event replace the configured ones', async () => {
    const store = memoryStore();
    store.put('lists', 'numbers.txt', `${C}\n`);
    const resolved = await resolveNumbers({ phoneNumbers: [B] }, { phoneNumbers: [A], manifest: 's3://lists/numbers.txt' }, store, MAX_BYTES);
    expect(resolved.numbers).toEqual([B]);
  });

  it('a manifest that does not exist is InvalidInput on field manifest, naming it', async () => {
    const e = invalid(await rejection(() => resolveNumbers({ manifest: 's3://lists/missing.txt' }, {}, memoryStore(), MAX_BYTES)), 'manifest');
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
    const e = invalid(await rejection(() => resolveNumbers({ manifest: 's3://lists/big.txt' }, {}, store, MAX_BYTES)), 'manifest');
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
      const e = invalid(await rejection(() => resolveNumbers(request, defaults as { phoneNumbers?: string[] }, memoryStore(), MAX_BYTES)), 'phoneNumbers');
      expect(e.message).toMatch(/no phone numbers/);
    }
  });

  it('phoneNumbers must be an array of at most MAX_EVENT_NUMBERS', async () => {
    invalid(await rejection(() => resolveNumbers({ phoneNumbers: A }, {}, memoryStore(), MAX_BYTES)), 'phoneNumbers');
    invalid(await rejection(() => resolveNumbers({ phoneNumbers: { 0: A } }, {}, memoryStore(), MAX_BYTES)), 'phoneNumbers');
    const many = Array.from({ length: MAX_EVENT_NUMBERS + 1 }, (_, i) => `+86137${String(i).padStart(8, '0')}`);
    invalid(await rejection(() => resolveNumbers({ phoneNumbers: many }, {}, memoryStore(), MAX_BYTES)), 'phoneNumbers');
    const resolved = await resolveNumbers({ phoneNumbers: many.slice(0, MAX_EVENT_NUMBERS) }, {}, memoryStore(), MAX_BYTES);
    expect(resolved.numbers).toHaveLength(MAX_EVENT_NUMBERS);
  });
});

describe('unknown fields, the export event and the lookup alike', () => {
  it('an empty key is refused and named, never let through', () => {
    expect(() => requestOf({ '': 1 })).toThrow(expect.objectContaining({ name: 'InvalidInput', field: '(empty)' }));
    expect(() => parseQuery({ phoneNumber: '+8613711112222', '': 'x' } as RawQuery, 1_750_000_000)).toThrow(
      expect.objectContaining({ name: 'InvalidInput', field: '(empty)' }),
    );
  });
  it('a long unknown key is quoted back cut to MAX_QUOTED_FIELD_LENGTH', () => {
    const key = 'k'.repeat(500);
    expect(() => requestOf({ [key]: 1 })).toThrow(expect.objectContaining({ field: key.slice(0, MAX_QUOTED_FIELD_LENGTH) }));
    expect(() => parseQuery({ [key]: '1' } as RawQuery, 1_750_000_000)).toThrow(expect.objectContaining({ field: key.slice(0, MAX_QUOTED_FIELD_LENGTH) }));
  });
});
