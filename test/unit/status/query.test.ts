import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePhoneNumber } from '#lib/phone-number.ts';
import { BEGIN_GRACE_SECONDS, oldestDefaultBegin, parseQuery, parseWindow, type RawQuery } from '#lib/status/query.ts';
import { SEAM_SECONDS } from '#lib/status/history.ts';
import { retentionEdge } from '#lib/tencent/retention.ts';
import { InvalidInput } from '#lib/errors.ts';

/** 2024-05-01T10:00:00Z */
const NOW = 1714557600;
const DAY = 86400;
const WEEK = 7 * DAY;
const PHONE = '+8613711112222';
/** Where a lookup's Tencent part starts at NOW: the retention edge (5 min in), the seam (1 min), 5 s of clock slack. */
const TENCENT_FROM = NOW - 7 * 86400 + 300 + 60 + 5;

function rejection(raw: unknown, now = NOW): InvalidInput {
  try {
    parseQuery(raw as RawQuery, now);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInput);
    return error as InvalidInput;
  }
  throw new Error(`expected InvalidInput for ${JSON.stringify(raw)}`);
}

describe('parseQuery: phone numbers', () => {
  it.each(['+8613711112222', '+14155552671', '+447911123456', '+1234567', '+123456789012345', '+919876543210'])(
    'accepts the E.164 number %s unchanged',
    (phoneNumber) => {
      expect(parseQuery({ phoneNumber }, NOW).phoneNumber).toBe(phoneNumber);
    },
  );

  it.each([
    ['missing +', '8613711112222'],
    ['letters', '+86137abc2222'],
    ['too short (6 digits)', '+123456'],
    ['too long (16 digits)', '+1234567890123456'],
    ['spaces', '+86 137 1111 2222'],
    ['leading zero country code', '+0123456789'],
    ['double plus', '++8613711112222'],
    ['dashes', '+86-137-1111-2222'],
    ['trailing newline', '+8613711112222\n'],
    ['leading space', ' +8613711112222'],
    ['full-width digits', '+８６１３７１１１１２２２２'],
    ['empty string', ''],
    ['only +', '+'],
    ['a number, not a string', 8613711112222],
    ['missing', undefined],
    ['null', null],
    ['an array', ['+8613711112222']],
  ])('rejects a phone number with %s', (_label, phoneNumber) => {
    const error = rejection({ phoneNumber });
    expect(error.field).toBe('phoneNumber');
    expect(error.code).toBe('InvalidParameterValue.IncorrectPhoneNumber');
    expect(error.statusCode).toBe(400);
  });

  it('rejects an absurdly long phone number on its length, naming the field', () => {
    const error = rejection({ phoneNumber: `+86${'1'.repeat(100)}` });
    expect(error.field).toBe('phoneNumber');
    expect(error.message).toContain('64');
  });

  it('parsePhoneNumber names the field it was given', () => {
    expect(() => parsePhoneNumber('123', 'to')).toThrow(InvalidInput);
    try {
      parsePhoneNumber('123', 'to');
    } catch (error) {
      expect((error as InvalidInput).field).toBe('to');
    }
  });

  it('any string either parses to an E.164 number or fails with InvalidInput on phoneNumber', () => {
    const e164 = /^\+[1-9]\d{6,14}$/;
    const phone = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((s) => `+${s}`),
      fc.stringMatching(/^\+[0-9]{0,17}$/),
      fc.stringMatching(/^\+[1-9]\d{6,14}$/),
    );
    fc.assert(
      fc.property(phone, (phoneNumber) => {
        let result;
        try {
          result = parseQuery({ phoneNumber }, NOW);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidInput);
          expect((error as InvalidInput).field).toBe('phoneNumber');
          expect(e164.test(phoneNumber)).toBe(false);
          return;
        }
        expect(result.phoneNumber).toBe(phoneNumber);
        expect(result.phoneNumber).toMatch(e164);
      }),
      { seed: 42, numRuns: 1000 },
    );
  });
});

describe('parseQuery: times', () => {
  it.each([
    ['non-numeric beginTime', { beginTime: 'yesterday' }, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail'],
    ['non-numeric endTime', { endTime: 'abc' }, 'endTime', 'InvalidParameterValue.EndTimeVerifyFail'],
    ['fractional beginTime', { beginTime: NOW - 10.5 }, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail'],
    ['NaN endTime', { endTime: Number.NaN }, 'endTime', 'InvalidParameterValue.EndTimeVerifyFail'],
    ['boolean beginTime', { beginTime: true }, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail'],
    ['beginTime before 2000', { beginTime: 12345 }, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail'],
    ['negative beginTime', { beginTime: -5 }, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail'],
    ['endTime after 2100', { endTime: 4102444801 }, 'endTime', 'InvalidParameterValue.EndTimeVerifyFail'],
    ['endTime in milliseconds', { endTime: String(NOW * 1000) }, 'endTime', 'InvalidParameterValue.EndTimeVerifyFail'],
    ['beginTime in the future', { beginTime: NOW + 60 }, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail'],
    [
      'beginTime older than 7 days and the grace',
      { beginTime: NOW - WEEK - BEGIN_GRACE_SECONDS - 1 },
      'beginTime',
      'InvalidParameterValue.BeginTimeVerifyFail',
    ],
    [
      'endTime older than 7 days, no beginTime given',
      { endTime: NOW - 40 * DAY },
      'endTime',
      'InvalidParameterValue.EndTimeVerifyFail',
    ],
    [
      'endTime before beginTime',
      { beginTime: NOW - 100, endTime: NOW - 200 },
      'endTime',
      'InvalidParameterValue.InvalidStartTime',
    ],
    ['malformed ISO', { beginTime: '2024-5-1T10:00:00Z' }, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail'],
    ['ISO month 13', { beginTime: '2024-13-01' }, 'beginTime', 'InvalidParameterValue.BeginTimeVerifyFail'],
    [
      'ISO with a space for T',
      { beginTime: '2024-04-30 10:00:00' },
      'beginTime',
      'InvalidParameterValue.BeginTimeVerifyFail',
    ],
  ] as Array<[string, RawQuery, string, string]>)('rejects %s', (_label, times, field, code) => {
    const error = rejection({ phoneNumber: PHONE, ...times });
    expect(error.field).toBe(field);
    expect(error.code).toBe(code);
  });

  it('rejects calendar-impossible dates instead of rolling them over into the next month', () => {
    // Read leniently (2024-04-31 as 2024-05-01, …) each value would lie inside the 7-day window
    // before its `now`, so only a strict parser rejects it.
    const cases: Array<[string, number]> = [
      ['2024-04-31', Date.UTC(2024, 4, 3) / 1000],
      ['2024-02-30', Date.UTC(2024, 2, 3) / 1000],
      ['2023-02-29', Date.UTC(2023, 2, 3) / 1000],
      ['2024-06-31T10:00:00Z', Date.UTC(2024, 6, 3) / 1000],
    ];
    for (const [beginTime, now] of cases) {
      const error = rejection({ phoneNumber: PHONE, beginTime }, now);
      expect(error.field, beginTime).toBe('beginTime');
      expect(error.code, beginTime).toBe('InvalidParameterValue.BeginTimeVerifyFail');
    }
  });

  it.each(['2024-04-30T25:00:00Z', '2024-04-30T10:61:00Z', '2024-04-30T10:00:60Z'])(
    'rejects the out-of-range time of day %s',
    (beginTime) => {
      const error = rejection({ phoneNumber: PHONE, beginTime }, Date.UTC(2024, 4, 3) / 1000);
      expect(error.field).toBe('beginTime');
      expect(error.code).toBe('InvalidParameterValue.BeginTimeVerifyFail');
    },
  );

  it('accepts 29 February in a leap year', () => {
    expect(parseQuery({ phoneNumber: PHONE, beginTime: '2024-02-29' }, Date.UTC(2024, 2, 3) / 1000).beginTime).toBe(
      Date.UTC(2024, 1, 29) / 1000,
    );
  });

  it("accepts beginTime exactly now, and 7 days back as where Tencent's part starts", () => {
    expect(parseQuery({ phoneNumber: PHONE, beginTime: NOW - WEEK }, NOW).beginTime).toBe(TENCENT_FROM);
    expect(parseQuery({ phoneNumber: PHONE, beginTime: NOW }, NOW)).toMatchObject({ beginTime: NOW, endTime: NOW });
  });

  describe("the grace at Tencent's 7 days", () => {
    it.each([
      ['7 days back', NOW - WEEK],
      ['7 days and the grace back', NOW - WEEK - BEGIN_GRACE_SECONDS],
      ['one second before where the Tencent part starts', TENCENT_FROM - 1],
    ])(
      "moves a beginTime %s to where the lookup's Tencent part starts (history seam, a few seconds on)",
      (_, beginTime) => {
        expect(parseQuery({ phoneNumber: PHONE, beginTime }, NOW).beginTime).toBe(TENCENT_FROM);
        expect(parseQuery({ phoneNumber: PHONE, beginTime }, NOW, { lakeRetentionDays: 400 }).beginTime).toBe(
          TENCENT_FROM,
        );
        expect(TENCENT_FROM).toBeGreaterThanOrEqual(retentionEdge(NOW * 1000) + SEAM_SECONDS);
      },
    );

    it("leaves a beginTime inside Tencent's part, or older than the grace (the lake's), as given", () => {
      expect(parseQuery({ phoneNumber: PHONE, beginTime: TENCENT_FROM + 1 }, NOW).beginTime).toBe(TENCENT_FROM + 1);
      const older = NOW - WEEK - BEGIN_GRACE_SECONDS - 1;
      expect(parseQuery({ phoneNumber: PHONE, beginTime: older }, NOW, { lakeRetentionDays: 400 }).beginTime).toBe(
        older,
      );
    });

    it("leaves a window that ends before Tencent's part as given", () => {
      const window = { beginTime: NOW - WEEK - 60, endTime: NOW - WEEK + 60 };
      expect(parseQuery({ phoneNumber: PHONE, ...window }, NOW, { lakeRetentionDays: 400 })).toMatchObject(window);
    });

    it('is for lookups: an export window is not moved', () => {
      expect(parseWindow({ beginTime: NOW - WEEK }, NOW, DAY).beginTime).toBe(NOW - WEEK);
    });
  });

  it.each([
    ['unix seconds as a number', 1714550400],
    ['unix seconds as a string', '1714550400'],
    ['ISO with Z', '2024-05-01T08:00:00Z'],
    ['ISO with fractional seconds (floored)', '2024-05-01T08:00:00.999Z'],
    ['ISO with +08:00', '2024-05-01T16:00:00+08:00'],
    ['ISO with -05:00', '2024-05-01T03:00:00-05:00'],
    ['ISO with +0800', '2024-05-01T16:00:00+0800'],
    ['ISO without offset (UTC)', '2024-05-01T08:00:00'],
    ['ISO minutes without offset (UTC)', '2024-05-01T08:00'],
  ])('reads beginTime given as %s', (_label, beginTime) => {
    expect(parseQuery({ phoneNumber: PHONE, beginTime }, NOW).beginTime).toBe(1714550400);
  });

  it('reads a date-only value as UTC midnight', () => {
    expect(parseQuery({ phoneNumber: PHONE, beginTime: '2024-05-01' }, NOW).beginTime).toBe(
      Date.UTC(2024, 4, 1) / 1000,
    );
    expect(parseQuery({ phoneNumber: PHONE, beginTime: '2024-04-28', endTime: '2024-04-29' }, NOW)).toMatchObject({
      beginTime: 1714262400,
      endTime: 1714348800,
    });
  });

  describe('on a host whose local time zone is not UTC', () => {
    const saved = process.env.TZ;
    beforeAll(() => {
      process.env.TZ = 'Asia/Shanghai';
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });

    it('still reads ISO without an offset, and date-only values, as UTC', () => {
      // Guard: the time zone change took effect, so this test can tell local time from UTC.
      expect(new Date(Date.UTC(2024, 4, 1)).getHours()).toBe(8);
      expect(parseQuery({ phoneNumber: PHONE, beginTime: '2024-05-01T08:00:00' }, NOW).beginTime).toBe(1714550400);
      expect(parseQuery({ phoneNumber: PHONE, beginTime: '2024-05-01T08:00' }, NOW).beginTime).toBe(1714550400);
      expect(parseQuery({ phoneNumber: PHONE, beginTime: '2024-05-01' }, NOW).beginTime).toBe(1714521600);
    });
  });
});

describe('parseQuery: defaults', () => {
  it('defaults to the last 24 hours, limit 100, all false', () => {
    expect(parseQuery({ phoneNumber: PHONE }, NOW)).toStrictEqual({
      phoneNumber: PHONE,
      beginTime: NOW - DAY,
      endTime: NOW,
      limit: 100,
      all: false,
    });
  });

  it('treats empty strings and null as absent', () => {
    expect(parseQuery({ phoneNumber: PHONE, beginTime: '', endTime: null, limit: '', all: '' }, NOW)).toStrictEqual({
      phoneNumber: PHONE,
      beginTime: NOW - DAY,
      endTime: NOW,
      limit: 100,
      all: false,
    });
  });

  it('defaults beginTime to 24 hours before a given endTime', () => {
    const endTime = NOW - 3 * 3600;
    expect(parseQuery({ phoneNumber: PHONE, endTime }, NOW)).toMatchObject({ beginTime: endTime - DAY, endTime });
  });

  it('clamps a default beginTime near the 7-day edge (5-minute margin)', () => {
    expect(oldestDefaultBegin(NOW)).toBe(NOW - WEEK + 300);
    const endTime = NOW - 6 * DAY - 12 * 3600;
    expect(parseQuery({ phoneNumber: PHONE, endTime }, NOW)).toMatchObject({ beginTime: NOW - WEEK + 300, endTime });
    // An endTime inside the margin gives a one-second window, never beginTime > endTime.
    const late = NOW - WEEK + 100;
    expect(parseQuery({ phoneNumber: PHONE, endTime: late }, NOW)).toMatchObject({ beginTime: late, endTime: late });
  });

  it('a default window is always valid and within 24 hours', () => {
    fc.assert(
      fc.property(fc.integer({ min: NOW - WEEK + 1, max: NOW }), (endTime) => {
        const query = parseQuery({ phoneNumber: PHONE, endTime }, NOW);
        expect(query.endTime).toBe(endTime);
        expect(query.beginTime).toBeLessThanOrEqual(endTime);
        expect(query.beginTime).toBeGreaterThanOrEqual(NOW - WEEK);
        expect(endTime - query.beginTime).toBeLessThanOrEqual(DAY);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('parseQuery: limit, all and shape', () => {
  it.each([
    [1, 1],
    [100, 100],
    ['50', 50],
    ['007', 7],
  ])('accepts limit %j as %d', (limit, expected) => {
    expect(parseQuery({ phoneNumber: PHONE, limit }, NOW).limit).toBe(expected);
  });

  it.each([0, 101, 'x', '1.5', 1.5, -1, '101', '1e2', ' 5', true])('rejects limit %j', (limit) => {
    const error = rejection({ phoneNumber: PHONE, limit });
    expect(error.field).toBe('limit');
    expect(error.code).toBe('InvalidParameterValue.LimitVerifyFail');
  });

  it.each([
    [true, true],
    ['true', true],
    ['1', true],
    [false, false],
    ['false', false],
    ['0', false],
  ])('accepts all=%j as %s', (all, expected) => {
    expect(parseQuery({ phoneNumber: PHONE, all }, NOW).all).toBe(expected);
  });

  it.each(['yes', 'TRUE', 1, 0, 'on'])('rejects all=%j', (all) => {
    const error = rejection({ phoneNumber: PHONE, all });
    expect(error.field).toBe('all');
    expect(error.code).toBe('InvalidParameter');
  });

  it('rejects an unknown field by name', () => {
    const error = rejection({ phoneNumber: PHONE, sdkAppId: '1400006666' });
    expect(error.field).toBe('sdkAppId');
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toContain("unknown field 'sdkAppId'");
  });

  it('cuts an absurdly long unknown field name to 64 characters', () => {
    const name = 'x'.repeat(500);
    const error = rejection({ phoneNumber: PHONE, [name]: 1 });
    expect(error.field).toBe('x'.repeat(64));
    expect(error.message.length).toBeLessThan(300);
  });

  it.each(['beginTime', 'endTime', 'limit', 'all'])('rejects a %s value longer than 64 characters', (field) => {
    const error = rejection({ phoneNumber: PHONE, [field]: '1'.repeat(65) });
    expect(error.field).toBe(field);
    expect(error.message).toContain('longer than 64');
    expect(error.code).toBe('InvalidParameter');
  });

  it.each([null, 'phoneNumber=+8613711112222', ['+8613711112222']])(
    'rejects a lookup that is not an object: %j',
    (raw) => {
      expect(rejection(raw).field).toBe('query');
    },
  );
});
