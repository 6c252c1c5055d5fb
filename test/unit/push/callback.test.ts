import { describe, expect, it } from 'vitest';
import { thrownAs } from '../../support/thrown.ts';
import fc from 'fast-check';
import { InvalidInput } from '#lib/errors.ts';
import {
  MAX_BATCH,
  MAX_BODY_BYTES,
  parseBatch,
  parseCallbackBody,
  parseLocalTime,
  type TencentReceipt,
} from '#lib/push/callback.ts';
import type { ExportRecord } from '#lib/lake/line.ts';

const SEED = 20261127;
const SETTINGS = { sdkAppId: '1400000000', utcOffsetMinutes: 480 };
const E164 = /^\+[1-9]\d{6,14}$/;
/** What an error may name: the body, a receipt, or one field of one receipt. */
const FIELD = /^(body|\[\d+\](\.(user_receive_time|nationcode|mobile|report_status|errmsg|description|sid))?)$/;

function receipt(overrides: Partial<Record<keyof TencentReceipt, unknown>> = {}): Record<string, unknown> {
  return {
    user_receive_time: '2015-10-17 08:03:04',
    nationcode: '86',
    mobile: '13711112222',
    report_status: 'SUCCESS',
    errmsg: 'DELIVRD',
    description: '用户短信送达成功',
    sid: 'x12345678',
    ...overrides,
  };
}

function thrown(run: () => unknown): InvalidInput {
  return thrownAs(InvalidInput, run);
}

describe('parseCallbackBody', () => {
  it("turns Tencent's documented receipt into the lake's record", () => {
    const records = parseCallbackBody(JSON.stringify([receipt()]), SETTINGS);
    expect(records).toEqual<ExportRecord[]>([
      {
        serialNo: 'x12345678',
        phoneNumber: '+8613711112222',
        countryCode: '86',
        subscriberNumber: '13711112222',
        reportStatus: 'SUCCESS',
        description: 'DELIVRD',
        // 2015-10-17 08:03:04 at +08:00 is 00:03:04 UTC.
        userReceiveTime: Date.UTC(2015, 9, 17, 0, 3, 4) / 1000,
        sdkAppId: '1400000000',
      },
    ]);
  });

  it('accepts bytes as well as text, and an empty array as a batch with nothing in it', () => {
    expect(parseCallbackBody(Buffer.from(JSON.stringify([receipt()])), SETTINGS)).toHaveLength(1);
    expect(parseCallbackBody('[]', SETTINGS)).toEqual([]);
  });

  it('sorts by receive time and merges receipts repeating a sid, whatever their order', () => {
    const a = receipt({ sid: 'a', user_receive_time: '2024-05-01 10:00:02' });
    const b = receipt({ sid: 'b', user_receive_time: '2024-05-01 10:00:01' });
    const aLater = receipt({
      sid: 'a',
      user_receive_time: '2024-05-01 10:00:03',
      report_status: 'FAIL',
      errmsg: 'UNDELIV',
    });
    const forward = parseBatch([a, b, aLater], SETTINGS);
    const backward = parseBatch([aLater, b, a], SETTINGS);
    expect(forward).toEqual(backward);
    expect(forward.map((r) => [r.serialNo, r.reportStatus])).toEqual([
      ['b', 'SUCCESS'],
      ['a', 'FAIL'],
    ]);
  });

  it.each<[string, string, string]>([
    ['not JSON', '{"oops"', 'body'],
    ['an object', JSON.stringify(receipt()), 'body'],
    ['a string', '"hello"', 'body'],
    ['null', 'null', 'body'],
    ['a receipt that is not an object', JSON.stringify([receipt(), 7]), '[1]'],
    ['a missing field', JSON.stringify([receipt(), receipt(), receipt(), { ...receipt(), sid: undefined }]), '[3].sid'],
    ['a number where a string goes', JSON.stringify([receipt({ nationcode: 86 })]), '[0].nationcode'],
    [
      'a bad time',
      JSON.stringify([receipt(), receipt(), receipt(), receipt({ user_receive_time: '2015-10-17T08:03:04Z' })]),
      '[3].user_receive_time',
    ],
    [
      'an impossible date',
      JSON.stringify([receipt({ user_receive_time: '2023-02-29 12:00:00' })]),
      '[0].user_receive_time',
    ],
    ['a bad country code', JSON.stringify([receipt({ nationcode: '+86' })]), '[0].nationcode'],
    ['letters in the number', JSON.stringify([receipt({ mobile: '137abc12222' })]), '[0].mobile'],
    [
      'a number too long for E.164',
      JSON.stringify([receipt({ nationcode: '1234', mobile: '12345678901234' })]),
      '[0].mobile',
    ],
    ['a number too short for E.164', JSON.stringify([receipt({ nationcode: '1', mobile: '2345' })]), '[0].mobile'],
    ['an unknown status', JSON.stringify([receipt({ report_status: 'success' })]), '[0].report_status'],
    ['an empty sid', JSON.stringify([receipt({ sid: '' })]), '[0].sid'],
    ['a sid past 64 characters', JSON.stringify([receipt({ sid: 's'.repeat(65) })]), '[0].sid'],
  ])('refuses %s, naming the field', (_, body, field) => {
    const error = thrown(() => parseCallbackBody(body, SETTINGS));
    expect(error.field).toBe(field);
    expect(error.detail.startsWith(field)).toBe(true);
    expect(error.statusCode).toBe(400);
  });

  it('refuses a body over 1 MiB before parsing it (a 10 MB body is not even read as JSON)', () => {
    const huge = `[${'9'.repeat(10 * 1024 * 1024)}`;
    const error = thrown(() => parseCallbackBody(huge, SETTINGS));
    expect(error.field).toBe('body');
    expect(error.detail).toContain(String(MAX_BODY_BYTES));
    expect(error.code).toBe('RequestSizeLimitExceeded');
  });

  it(`refuses more than ${MAX_BATCH} receipts in one batch`, () => {
    expect(
      thrown(() =>
        parseBatch(
          Array.from({ length: MAX_BATCH + 1 }, () => receipt()),
          SETTINGS,
        ),
      ).field,
    ).toBe('body');
    expect(
      parseBatch(
        Array.from({ length: MAX_BATCH }, (_, i) => receipt({ sid: `s${i}` })),
        SETTINGS,
      ),
    ).toHaveLength(MAX_BATCH);
  });

  it('keeps no number in an error message', () => {
    const error = thrown(() => parseBatch([receipt({ mobile: '1371111222233334444' })], SETTINGS));
    expect(error.message).not.toContain('1371111222233334444');
  });
});

describe('parseLocalTime', () => {
  it.each<[string, number, string]>([
    ['+08:00', 480, '2024-05-01T02:03:04Z'],
    ['+00:00', 0, '2024-05-01T10:03:04Z'],
    ['-05:00', -300, '2024-05-01T15:03:04Z'],
    ['+05:45', 345, '2024-05-01T04:18:04Z'],
    ['+14:00', 840, '2024-04-30T20:03:04Z'],
    ['-12:00', -720, '2024-05-01T22:03:04Z'],
  ])('reads a wall-clock time at %s', (_, offset, utc) => {
    expect(parseLocalTime('2024-05-01 10:03:04', offset)).toBe(Date.parse(utc) / 1000);
  });

  it('crosses days, months and years as the offset says', () => {
    expect(parseLocalTime('2025-01-01 07:59:59', 480)).toBe(Date.parse('2024-12-31T23:59:59Z') / 1000);
    expect(parseLocalTime('2024-02-29 23:00:00', -300)).toBe(Date.parse('2024-03-01T04:00:00Z') / 1000);
  });

  it('agrees with Date for every offset and any time (fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2099, 11, 31) / 1000 }),
        fc.integer({ min: -720, max: 840 }),
        (seconds, offset) => {
          const wall = new Date((seconds + offset * 60) * 1000).toISOString().replace('T', ' ').slice(0, 19);
          expect(parseLocalTime(wall, offset)).toBe(seconds);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it.each([
    '2023-02-29 00:00:00',
    '2024-02-30 00:00:00',
    '2024-04-31 00:00:00',
    '2024-13-01 00:00:00',
    '2024-00-10 00:00:00',
    '2024-05-00 00:00:00',
    '2024-05-01 24:00:00',
    '2024-05-01 23:60:00',
    '2024-05-01 23:59:60',
    '1969-12-31 23:59:59',
    '0099-05-01 10:00:00',
    '2024-5-1 10:00:00',
    '2024-05-01T10:00:00',
    '2024-05-01 10:00:00 ',
    '2024-05-01 10:00',
    '',
  ])("refuses '%s'", (text) => {
    expect(thrown(() => parseLocalTime(text, 0, '[0].user_receive_time')).field).toBe('[0].user_receive_time');
  });

  it('refuses a time no receipt has (before 2000 or from 2100 on, once the offset is applied), naming the field', () => {
    for (const [text, offset] of [
      ['1970-01-01 08:00:00', 480],
      ['1999-12-31 23:59:59', 0],
      ['2000-01-01 07:59:59', 480],
      ['2100-01-01 00:00:01', 0],
      ['9999-12-31 23:59:59', 0],
      ['9999-12-31 23:59:59', -720],
    ] as const) {
      expect(thrown(() => parseLocalTime(text, offset, '[2].user_receive_time')).field, `${text} at ${offset}`).toBe(
        '[2].user_receive_time',
      );
    }
    expect(parseLocalTime('2000-01-01 08:00:00', 480)).toBe(946_684_800);
    expect(parseLocalTime('2099-12-31 23:59:59', 0)).toBe(4_102_444_799);
  });
});

describe('any body (fuzz, fixed seed)', () => {
  const text = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom(
      'SUCCESS',
      'FAIL',
      '86',
      '1',
      '0',
      '13711112222',
      '2024-05-01 10:03:04',
      '2024-02-30 10:03:04',
      '',
      's'.repeat(65),
    ),
    fc.stringMatching(/^\d{1,16}$/),
    fc
      .date({ min: new Date('1960-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString().replace('T', ' ').slice(0, 19)),
  );
  const value = fc.oneof(text, fc.integer(), fc.constant(null), fc.boolean(), fc.constant(undefined));
  const mutated = fc
    .record({
      user_receive_time: value,
      nationcode: value,
      mobile: value,
      report_status: value,
      errmsg: value,
      description: value,
      sid: value,
    })
    .map((r) => ({ ...receipt(), ...Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) }));
  const item = fc.oneof(
    { weight: 4, arbitrary: fc.constant(receipt()).chain((r) => fc.constantFrom(r, { ...r, sid: 'other' })) },
    { weight: 6, arbitrary: mutated },
    { weight: 1, arbitrary: fc.anything() },
  );
  const body = fc.oneof(
    { weight: 6, arbitrary: fc.array(item, { maxLength: 8 }).map((items) => JSON.stringify(items)) },
    { weight: 1, arbitrary: fc.json() },
    { weight: 1, arbitrary: fc.string() },
  );

  it('either gives valid records or throws InvalidInput naming a field', () => {
    let parsed = 0;
    fc.assert(
      fc.property(body, fc.integer({ min: -720, max: 840 }), (text, utcOffsetMinutes) => {
        let records: ExportRecord[];
        try {
          records = parseCallbackBody(text, { sdkAppId: '1400000000', utcOffsetMinutes });
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidInput);
          expect((error as InvalidInput).field).toMatch(FIELD);
          return;
        }
        parsed += 1;
        expect(new Set(records.map((r) => r.serialNo)).size).toBe(records.length);
        for (const r of records) {
          expect(r.phoneNumber).toMatch(E164);
          expect(r.phoneNumber).toBe(`+${r.countryCode}${r.subscriberNumber}`);
          expect(['SUCCESS', 'FAIL']).toContain(r.reportStatus);
          expect(r.serialNo.length).toBeGreaterThan(0);
          expect(r.serialNo.length).toBeLessThanOrEqual(64);
          expect(Number.isSafeInteger(r.userReceiveTime) && r.userReceiveTime >= 0).toBe(true);
          expect(r.sdkAppId).toBe('1400000000');
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
    expect(parsed, 'the generator must reach valid batches too').toBeGreaterThan(50);
  });
});

describe('long or missing optional text (errmsg, description)', () => {
  it('keeps a receipt whose errmsg runs long, cut to 512 characters, and its neighbours with it', () => {
    const long = 'E'.repeat(600);
    const records = parseCallbackBody(
      JSON.stringify([receipt({ sid: 'a' }), receipt({ sid: 'b', errmsg: long }), receipt({ sid: 'c' })]),
      SETTINGS,
    );
    expect(records.map((r) => r.serialNo).sort()).toEqual(['a', 'b', 'c']);
    expect(records.find((r) => r.serialNo === 'b')?.description).toBe('E'.repeat(512));
  });

  it('keeps a receipt whose description runs long (Tencent’s text, not kept) or is missing', () => {
    const records = parseCallbackBody(
      JSON.stringify([
        receipt({ sid: 'a', description: 'd'.repeat(10_000) }),
        { ...receipt({ sid: 'b' }), description: undefined },
      ]),
      SETTINGS,
    );
    expect(records.map((r) => r.serialNo).sort()).toEqual(['a', 'b']);
  });

  it('takes a missing errmsg as empty', () => {
    expect(parseCallbackBody(JSON.stringify([{ ...receipt(), errmsg: undefined }]), SETTINGS)[0]?.description).toBe('');
  });

  it('never cuts a character in half', () => {
    const errmsg = `${'x'.repeat(511)}😀tail`;
    const [record] = parseCallbackBody(JSON.stringify([receipt({ errmsg })]), SETTINGS);
    expect(record?.description).toBe('x'.repeat(511));
    expect(Buffer.from(record?.description ?? '', 'utf8').toString('utf8')).toBe(record?.description);
  });

  it('still refuses a receipt with nothing to key it by: no sid, no number, no time', () => {
    for (const [bad, field] of [
      [{ sid: undefined }, '[0].sid'],
      [{ mobile: undefined }, '[0].mobile'],
      [{ nationcode: undefined }, '[0].nationcode'],
      [{ user_receive_time: undefined }, '[0].user_receive_time'],
    ] as const) {
      expect(
        thrownAs(InvalidInput, () => parseCallbackBody(JSON.stringify([{ ...receipt(), ...bad }]), SETTINGS)).field,
      ).toBe(field);
    }
  });
});
