import { describe, expect, it } from 'vitest';
import { jobIdOf } from '#lib/export/job.ts';
import { resolveNumbers } from '#lib/export/numbers.ts';
import { explicitWindow, requestOf } from '#lib/export/request.ts';
import { InvalidInput } from '#lib/errors.ts';
import { MAX_QUOTED_FIELD_LENGTH } from '#lib/fields.ts';
import { parseQuery, type RawQuery } from '#lib/status/query.ts';
import { memoryStore } from '../../support/memory-store.ts';

const A = '+8613711112222';
const B = '+8613800138000';
const C = '+14155550123';
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
    invalid(
      thrown(() => requestOf({ schedule: 'hourly', phoneNumbers: [A] })),
      'phoneNumbers',
    );
    invalid(
      thrown(() => requestOf({ schedule: 'reconcile', beginTime: 1 })),
      'beginTime',
    );
    invalid(
      thrown(() => requestOf({ schedule: 'daily' })),
      'schedule',
    );
    invalid(
      thrown(() => requestOf({ schedule: '' })),
      'schedule',
    );
    invalid(
      thrown(() => requestOf({ source: 'aws.events', junk: true })),
      'junk',
    );
    expect(requestOf({ schedule: 'reconcile' })).toEqual({ reconcile: true });
    expect(
      requestOf({
        version: '0',
        id: 'e',
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '1',
        time: 't',
        region: 'r',
        resources: [],
        detail: {},
      }),
    ).toEqual({});
  });

  it('refuses an unknown field, naming it', () => {
    const e = invalid(
      thrown(() => requestOf({ phoneNumbers: [A], phoneNumber: A })),
      'phoneNumber',
    );
    expect(e.message).toContain("'phoneNumber'");
    expect(e.message).toContain('phoneNumbers, manifest, beginTime, endTime');
    invalid(
      thrown(() => requestOf({ beginTime: 1, limit: 5 })),
      'limit',
    );
  });

  it('cuts an absurdly long unknown field name', () => {
    const name = 'x'.repeat(5000);
    const e = invalid(
      thrown(() => requestOf({ [name]: 1 })),
      'x'.repeat(64),
    );
    expect(e.message.length).toBeLessThan(300);
  });

  it.each([['a string'], [42], [true], [[A, B]]])('refuses a non-object event %j', (event) => {
    const e = invalid(
      thrown(() => requestOf(event)),
      'event',
    );
    expect(e.message).toMatch(/must be an object/);
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
    expect(() => requestOf({ [key]: 1 })).toThrow(
      expect.objectContaining({ field: key.slice(0, MAX_QUOTED_FIELD_LENGTH) }),
    );
    expect(() => parseQuery({ [key]: '1' } as RawQuery, 1_750_000_000)).toThrow(
      expect.objectContaining({ field: key.slice(0, MAX_QUOTED_FIELD_LENGTH) }),
    );
  });
});
