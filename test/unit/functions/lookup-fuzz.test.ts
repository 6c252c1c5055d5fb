import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import fc from 'fast-check';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { RawQuery } from '#lib/status/query.ts';
import { InvalidInput, RateLimited, SmsStatusError, UpstreamRejected, UpstreamUnavailable } from '#lib/errors.ts';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { logger } from '#lib/observability/logger.ts';
import { lookupHandlers } from '../../../functions/lookup-handlers.ts';
import { fakeTencent, type FakeClient } from '../../support/fake-tencent.ts';

/**
 * Fuzzing the lookup's two adapters over the fake Tencent (test/support/fake-tencent.ts): whatever a
 * caller sends, the HTTP API answers 200 or 400 (never a 5xx), a bad request costs no Tencent request,
 * and the direct adapter throws only the taxonomy's named errors. One property per behaviour: each
 * property of a group replays the same inputs (same seed, same runs).
 */

const SEED = 20261126;
const RUNS = 400;
/** 2025-11-26T00:00:00Z: the clock is pinned so a seed reproduces the same answers. */
const NOW = 1_764_115_200;
const WEEK = 7 * 86400;
const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_ECHO = 64;
const CONTEXT = { getRemainingTimeInMillis: () => 25_000, awsRequestId: 'x', functionName: 'f' } as unknown as Context;
const TAXONOMY = ['InvalidInput', 'RateLimited', 'UpstreamUnavailable', 'UpstreamRejected'];

/** Tencent answering every pull at once with one receipt for the asked number, or failing each with `fail()`. */
function fakeClient(fail?: () => Error): FakeClient {
  return fakeTencent({
    receipts: (phoneNumber, { beginTime }) => [
      {
        SerialNo: '2433:fuzz-1',
        PhoneNumber: phoneNumber,
        CountryCode: phoneNumber.slice(1, 3),
        SubscriberNumber: phoneNumber.slice(3),
        ReportStatus: 'SUCCESS',
        Description: 'DELIVRD',
        UserReceiveTime: beginTime,
      },
    ],
    fail: fail && (() => fail()),
    turns: 0,
  });
}

// ---- arbitraries -------------------------------------------------------------------------------

const validNumber = fc.stringMatching(/^\+[1-9]\d{6,14}$/);

/** Strings of an exact length from 65 to 10,000 characters (fast-check's small size would not reach them). */
const longString = fc
  .tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), fc.integer({ min: MAX_ECHO + 1, max: 10_000 }))
  .map(([piece, length]) => piece.repeat(Math.ceil(length / piece.length)).slice(0, length))
  .filter((s) => s.length > MAX_ECHO);
const longDigits = fc.integer({ min: MAX_ECHO, max: 10_000 }).map((n) => '1'.repeat(n));
const loneSurrogates = fc.string({
  unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  maxLength: 4,
});

const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.tuple(fc.string(), loneSurrogates, fc.string()).map((parts) => parts.join('')),
  longString,
);

const phonePath = fc.oneof(
  { arbitrary: validNumber, weight: 4 },
  { arbitrary: validNumber.map((n) => `%2B${n.slice(1)}`), weight: 3 },
  { arbitrary: validNumber.map((n) => `%2b${n.slice(1)}`), weight: 1 },
  { arbitrary: validNumber.map((n) => encodeURIComponent(` ${n}`)), weight: 1 },
  { arbitrary: anyString, weight: 3 },
  { arbitrary: fc.stringMatching(/^(%[0-9A-Fa-f]{0,2}|[+0-9])*$/), weight: 2 },
  { arbitrary: fc.string().map((s) => `%${s}`), weight: 1 },
  { arbitrary: longDigits.map((d) => `+86${d}`), weight: 1 },
  { arbitrary: longDigits.map((d) => `%2B86${d}`), weight: 1 },
  {
    arbitrary: fc.constantFrom('', '%', '%%', '%2', '%2B', '%2B%', '%E0%A4%A', '%00', '%ZZ', '+', '%2B8613711112222%'),
    weight: 1,
  },
);

/** Unix seconds and ISO-8601 spellings of `seconds`, as a query string carries them. */
function timeSpellings(seconds: number): string[] {
  const iso = new Date(seconds * 1000).toISOString();
  const shanghai = `${new Date((seconds + 8 * 3600) * 1000).toISOString().slice(0, 19)}+08:00`;
  return [String(seconds), iso, iso.slice(0, 19), `${iso.slice(0, 19)}Z`, shanghai];
}

const validTime = (seconds: number) => fc.constantFrom(...timeSpellings(seconds));
const validLimit = fc.integer({ min: 1, max: 100 }).map(String);
const validAll = fc.constantFrom('true', 'false', '1', '0', '');

/** A query string the API accepts: a window inside the last 7 days, a limit, all. */
const validQuery = fc.tuple(fc.integer({ min: 0, max: WEEK }), fc.integer({ min: 0, max: WEEK })).chain(([a, b]) => {
  const [older, newer] = a >= b ? [a, b] : [b, a];
  return fc.record(
    { beginTime: validTime(NOW - older), endTime: validTime(NOW - newer), limit: validLimit, all: validAll },
    { requiredKeys: [] },
  );
});

const timeValue = fc.oneof(
  fc.integer({ min: 0, max: WEEK * 2 }).chain((ago) => validTime(NOW - ago)),
  fc.integer({ min: -WEEK, max: 0 }).chain((ago) => validTime(NOW - ago)),
  fc.integer().map(String),
  fc.constantFrom(
    '',
    'now',
    'yesterday',
    '2024-02-30',
    '2025-11-25',
    '0000-01-01',
    '9999-12-31T23:59:59Z',
    '2025-11-25T25:00:00Z',
    '1e9',
    '-1',
  ),
  anyString,
);
const limitValue = fc.oneof(
  fc.integer({ min: -5, max: 200 }).map(String),
  fc.constantFrom('', '1', '100', '101', '0', '1e2', ' 5', '05', '005', '0x10', '1.5', 'NaN', 'Infinity'),
  anyString,
);
const allValue = fc.oneof(fc.constantFrom('true', 'false', '1', '0', '', 'TRUE', 'yes', 'null'), anyString);

const queryKey = fc.oneof(
  fc.constantFrom(
    'beginTime',
    'endTime',
    'limit',
    'all',
    'phoneNumber',
    'BeginTime',
    'LIMIT',
    'begin',
    'offset',
    'Offset',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    '',
  ),
  fc.string(),
  fc.string({ unit: 'binary' }),
  longString,
);
const queryValue = fc.oneof(anyString, timeValue, limitValue, allValue);

const queryStringParameters: fc.Arbitrary<Record<string, string> | null> = fc.oneof(
  fc.constant(null),
  validQuery,
  fc.record({ beginTime: timeValue, endTime: timeValue, limit: limitValue, all: allValue }, { requiredKeys: [] }),
  fc.dictionary(queryKey, queryValue, { maxKeys: 6 }),
  fc
    .tuple(validQuery, fc.dictionary(queryKey, queryValue, { maxKeys: 3 }))
    .map(([known, extra]) => ({ ...known, ...extra })),
);

const headers = fc.oneof(
  fc.constant({ 'x-api-key': 'local-key', Host: 'abc.execute-api.eu-west-1.amazonaws.com' }),
  fc
    .dictionary(fc.oneof(fc.string(), fc.constantFrom('X-Api-Key', 'Content-Type', 'ACCEPT', '__proto__')), anyString, {
      maxKeys: 5,
    })
    .map((extra) => ({
      'x-api-key': 'local-key',
      ...extra,
    })),
);

interface HttpInput {
  pathParameters: { phoneNumber?: string | null } | null;
  queryStringParameters: Record<string, string> | null;
  headers: Record<string, string>;
}

const httpInput: fc.Arbitrary<HttpInput> = fc.record({
  pathParameters: fc.oneof(
    { arbitrary: phonePath.map((phoneNumber) => ({ phoneNumber })), weight: 12 },
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: fc.constant({}), weight: 1 },
  ),
  queryStringParameters,
  headers,
});

/** A valid lookup through API Gateway: a number (plain or %2B-encoded) and a valid query string. */
const validHttpInput: fc.Arbitrary<HttpInput> = fc.record({
  pathParameters: fc
    .oneof(
      validNumber,
      validNumber.map((n) => `%2B${n.slice(1)}`),
    )
    .map((phoneNumber) => ({ phoneNumber })),
  queryStringParameters: fc.oneof(fc.constant(null), validQuery),
  headers,
});

/** An API Gateway REST proxy event, freshly built: middy's normalizers mutate the event they get. */
function restEvent(input: HttpInput): APIGatewayProxyEvent {
  const phoneNumber = input.pathParameters?.phoneNumber;
  return {
    httpMethod: 'GET',
    resource: '/v1/phone-numbers/{phoneNumber}/statuses',
    path: `/v1/phone-numbers/${typeof phoneNumber === 'string' ? phoneNumber : ''}/statuses`,
    requestContext: {},
    headers: { ...input.headers },
    multiValueHeaders: {},
    pathParameters: input.pathParameters === null ? null : { ...input.pathParameters },
    queryStringParameters: input.queryStringParameters === null ? null : { ...input.queryStringParameters },
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

/** Every string of the input longer than the echo limit: none may come back in an error. */
function longInputs(input: HttpInput): string[] {
  const strings: string[] = [];
  const phoneNumber = input.pathParameters?.phoneNumber;
  if (typeof phoneNumber === 'string') strings.push(phoneNumber);
  for (const [key, value] of Object.entries(input.queryStringParameters ?? {})) strings.push(key, value);
  return strings.filter((s) => s.length > MAX_ECHO);
}

/** The phone number the path names, after API Gateway's percent-decoding, when it is a valid one. */
function pathNumber(input: HttpInput): string | undefined {
  const raw = input.pathParameters?.phoneNumber;
  if (typeof raw !== 'string') return undefined;
  try {
    const decoded = raw.includes('%') ? decodeURIComponent(raw) : raw;
    return E164.test(decoded) ? decoded : undefined;
  } catch {
    return undefined;
  }
}

type Http = ReturnType<typeof lookupHandlers>['http'];
type Direct = ReturnType<typeof lookupHandlers>['direct'];

interface ErrorResponseBody {
  error: { code: string; message: string; requestId?: string; field?: string };
}

function expectErrorBody(body: unknown): ErrorResponseBody {
  expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  const { error } = body as ErrorResponseBody;
  expect(error.code).not.toBe('');
  expect(error.message).not.toBe('');
  return body as ErrorResponseBody;
}

// ---- the clock and the logs --------------------------------------------------------------------

/** What the Powertools logger wrote during the test (to process.stdout and, for warnings, process.stderr). */
let logs: string[] = [];
let spies: Array<MockInstance<typeof process.stdout.write>> = [];

// vitest.config.ts silences the logger; this file reads what the handlers log, so it logs at the
// logger's default level here, as in a Lambda.
let silenced: LogLevel;

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW * 1000);
  silenced = logger.getLevelName();
  logger.setLogLevel('INFO');
});

afterAll(() => {
  vi.useRealTimers();
  logger.setLogLevel(silenced);
});

beforeEach(() => {
  logs = [];
  const capture = (chunk: unknown): boolean => {
    logs.push(String(chunk));
    return true;
  };
  spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
});

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
});

// ---- the HTTP adapter --------------------------------------------------------------------------

describe('lookup HTTP adapter: fuzzed API Gateway events', () => {
  /** One fuzzed event through the HTTP adapter, with the Tencent requests it cost and what it logged. */
  async function send(
    http: Http,
    fake: FakeClient,
    input: HttpInput,
  ): Promise<{ result: APIGatewayProxyResult; spent: number; logged: string }> {
    const callsBefore = fake.calls.length;
    const logsBefore = logs.length;
    let result: APIGatewayProxyResult;
    try {
      result = await http(restEvent(input), CONTEXT);
    } catch (error) {
      throw new Error(`the HTTP adapter threw instead of answering: ${String(error)}`, { cause: error });
    }
    return { result, spent: fake.calls.length - callsBefore, logged: logs.slice(logsBefore).join('') };
  }

  it('answers every event with 200 or 400 and a JSON body, each outcome many times', async () => {
    const fake = fakeClient();
    const { http } = lookupHandlers(fake, 4, 7000);
    const seen = { 200: 0, 400: 0 };
    await fc.assert(
      fc.asyncProperty(httpInput, async (input) => {
        const { result } = await send(http, fake, input);
        expect([200, 400]).toContain(result.statusCode);
        expect(typeof result.body).toBe('string');
        JSON.parse(result.body);
        expect(result.headers?.['Content-Type']).toBe('application/json');
        seen[result.statusCode as 200 | 400] += 1;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // Both outcomes were exercised: the properties below are not vacuous.
    expect(seen[200]).toBeGreaterThan(20);
    expect(seen[400]).toBeGreaterThan(20);
  });

  it('a 200 names the valid number of the path and holds its one receipt, after one Tencent request', async () => {
    const fake = fakeClient();
    const { http } = lookupHandlers(fake, 4, 7000);
    await fc.assert(
      fc.asyncProperty(httpInput, async (input) => {
        const { result, spent } = await send(http, fake, input);
        if (result.statusCode !== 200) return;
        const answer = JSON.parse(result.body) as { phoneNumber: string; statuses: Array<{ phoneNumber: string }> };
        expect(answer.phoneNumber).toMatch(E164);
        expect(answer.phoneNumber).toBe(pathNumber(input));
        expect(answer.statuses).toHaveLength(1);
        expect(spent).toBe(1);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a 400 is an error body of at most 300 characters, costs no Tencent request and echoes no long input', async () => {
    const fake = fakeClient();
    const { http } = lookupHandlers(fake, 4, 7000);
    await fc.assert(
      fc.asyncProperty(httpInput, async (input) => {
        const { result, spent } = await send(http, fake, input);
        if (result.statusCode !== 400) return;
        const { error } = expectErrorBody(JSON.parse(result.body));
        expect(spent).toBe(0);
        expect(error.message.length).toBeLessThanOrEqual(300);
        for (const long of longInputs(input)) {
          expect(error.message.includes(long)).toBe(false);
          expect(error.field?.includes(long) ?? false).toBe(false);
          expect(error.code.includes(long)).toBe(false);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('never logs the number looked up unmasked', async () => {
    const fake = fakeClient();
    const { http } = lookupHandlers(fake, 4, 7000);
    await fc.assert(
      fc.asyncProperty(httpInput, async (input) => {
        const { logged } = await send(http, fake, input);
        const number = pathNumber(input);
        if (number) expect(logged).not.toContain(number);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('answers every valid lookup 200 with the number it names, after one Tencent request', async () => {
    const fake = fakeClient();
    const { http } = lookupHandlers(fake, 4, 7000);
    await fc.assert(
      fc.asyncProperty(validHttpInput, async (input) => {
        const callsBefore = fake.calls.length;
        const result = await http(restEvent(input), CONTEXT);
        expect(result.statusCode, result.body).toBe(200);
        const answer = JSON.parse(result.body) as { phoneNumber: string; beginTime: number; endTime: number };
        expect(answer.phoneNumber).toBe(pathNumber(input));
        expect(answer.beginTime).toBeLessThanOrEqual(answer.endTime);
        expect(answer.beginTime).toBeGreaterThanOrEqual(NOW - WEEK);
        expect(answer.endTime).toBeLessThanOrEqual(NOW);
        expect(fake.calls.length - callsBefore).toBe(1);
        expect(fake.calls.at(-1)?.phoneNumber).toBe(answer.phoneNumber);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a null phoneNumber path parameter (a hand-made event, which `handler` routes here) is a 400, not a 500', async () => {
    // API Gateway never sends it, but `handler` routes any object with httpMethod and requestContext
    // here, so `aws lambda invoke` with such an event reaches the HTTP adapter: still the caller's input.
    const fake = fakeClient();
    const { http } = lookupHandlers(fake, 4, 7000);
    const queries: Array<Record<string, string> | null> = [null, {}, { beginTime: String(NOW - 3600) }];
    for (const queryStringParameters of queries) {
      const result = await http(
        restEvent({ pathParameters: { phoneNumber: null }, queryStringParameters, headers: {} }),
        CONTEXT,
      );
      expect(result.statusCode, result.body).toBe(400);
      expectErrorBody(JSON.parse(result.body));
    }
    expect(fake.calls).toHaveLength(0);
  });

  it('a path parameter that is not valid percent-encoding is a 400 on phoneNumber', async () => {
    const fake = fakeClient();
    const { http } = lookupHandlers(fake, 4, 7000);
    for (const phoneNumber of ['%', '%E0%A4%A', '%2B861371111222%', '%ZZ8613711112222']) {
      const result = await http(
        restEvent({ pathParameters: { phoneNumber }, queryStringParameters: null, headers: {} }),
        CONTEXT,
      );
      expect(result.statusCode, phoneNumber).toBe(400);
      expect(JSON.parse(result.body)).toMatchObject({
        error: { code: 'InvalidParameterValue.IncorrectPhoneNumber', field: 'phoneNumber' },
      });
    }
    expect(fake.calls).toHaveLength(0);
  });
});

// ---- taxonomy errors from Tencent ----------------------------------------------------------------

type ErrorCase = { make: () => Error; status: number[]; retryAfter?: string };

const ERROR_CASES: ErrorCase[] = [
  { make: () => new RateLimited('over the request budget', { retryAfterSeconds: 1 }), status: [429], retryAfter: '1' },
  {
    make: () =>
      new RateLimited('Tencent throttled', { code: 'RequestLimitExceeded', requestId: 'r-429', retryAfterSeconds: 7 }),
    status: [429],
    retryAfter: '7',
  },
  { make: () => new RateLimited('over the request budget'), status: [429] },
  {
    make: () => new UpstreamUnavailable('Tencent is down', { code: 'InternalError', requestId: 'r-503' }),
    status: [503],
  },
  {
    make: () => new UpstreamUnavailable('Tencent timed out', { code: 'RequestTimeout', statusCode: 504 }),
    status: [504],
  },
  {
    make: () =>
      new UpstreamRejected('the secret key is wrong', { code: 'AuthFailure.SignatureFailure', requestId: 'r-502' }),
    status: [502],
  },
  { make: () => new UpstreamRejected('no such app', { code: 'FailedOperation.SmsSdkAppIdNotExist' }), status: [502] },
  {
    make: () =>
      new InvalidInput('Tencent refused the number', {
        code: 'InvalidParameterValue.IncorrectPhoneNumber',
        field: 'phoneNumber',
      }),
    status: [400],
  },
  { make: () => new Error('boom'), status: [500] },
];

describe('lookup HTTP adapter: Tencent failures', () => {
  /** A valid lookup through the HTTP adapter while every Tencent request fails with the case's error. */
  async function failedLookup(
    input: HttpInput,
    errorCase: ErrorCase,
  ): Promise<{ result: APIGatewayProxyResult; thrown: Error | undefined; calls: number }> {
    let thrown: Error | undefined;
    const fake = fakeClient(() => (thrown = errorCase.make()));
    const { http } = lookupHandlers(fake, 4, 7000);
    const result = await http(restEvent(input), CONTEXT);
    return { result, thrown, calls: fake.calls.length };
  }

  it('answers each error with its status and a JSON body, after asking Tencent', async () => {
    await fc.assert(
      fc.asyncProperty(validHttpInput, fc.constantFrom(...ERROR_CASES), async (input, errorCase) => {
        const { result, calls } = await failedLookup(input, errorCase);
        expect(calls).toBeGreaterThan(0);
        expect(errorCase.status).toContain(result.statusCode);
        JSON.parse(result.body);
        expect(result.headers?.['Content-Type']).toBe('application/json');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a taxonomy error comes back with its code, message and Tencent RequestId', async () => {
    await fc.assert(
      fc.asyncProperty(validHttpInput, fc.constantFrom(...ERROR_CASES), async (input, errorCase) => {
        const { result, thrown } = await failedLookup(input, errorCase);
        if (!(thrown instanceof SmsStatusError)) return;
        const { error } = expectErrorBody(JSON.parse(result.body));
        expect(error.code).toBe(thrown.code);
        expect(error.message).toBe(thrown.detail);
        expect(error.requestId).toBe(thrown.requestId);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('anything else is an opaque 500 that says nothing of the internals', async () => {
    await fc.assert(
      fc.asyncProperty(validHttpInput, fc.constantFrom(...ERROR_CASES), async (input, errorCase) => {
        const { result, thrown } = await failedLookup(input, errorCase);
        if (thrown instanceof SmsStatusError) return;
        // The only 5xx that is not Tencent's.
        expect(result.statusCode).toBe(500);
        expect(JSON.parse(result.body)).toStrictEqual({ error: { code: 'InternalError', message: 'internal error' } });
        expect(result.body).not.toContain('boom');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('sends Retry-After exactly when the error gives one', async () => {
    await fc.assert(
      fc.asyncProperty(validHttpInput, fc.constantFrom(...ERROR_CASES), async (input, errorCase) => {
        const { result } = await failedLookup(input, errorCase);
        const retryAfter = result.headers?.['Retry-After'];
        expect(retryAfter === undefined ? undefined : String(retryAfter)).toBe(errorCase.retryAfter);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

// ---- the direct adapter --------------------------------------------------------------------------

const anyValue = fc.oneof(
  fc.jsonValue(),
  anyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);

const directRecord = fc.record(
  {
    phoneNumber: fc.oneof(
      validNumber,
      validNumber.map((n) => `%2B${n.slice(1)}`),
      anyValue,
    ),
    beginTime: fc.oneof(fc.integer({ min: NOW - 2 * WEEK, max: NOW + 100 }), timeValue, anyValue),
    endTime: fc.oneof(fc.integer({ min: NOW - 2 * WEEK, max: NOW + 100 }), timeValue, anyValue),
    limit: fc.oneof(fc.integer({ min: -5, max: 200 }), limitValue, anyValue),
    all: fc.oneof(fc.boolean(), allValue, anyValue),
  },
  { requiredKeys: [] },
);

/** A direct lookup that must succeed: numbers and booleans as JSON carries them, or strings. */
const validDirect = fc.tuple(fc.integer({ min: 0, max: WEEK }), fc.integer({ min: 0, max: WEEK })).chain(([a, b]) => {
  const [older, newer] = a >= b ? [a, b] : [b, a];
  return fc.record(
    {
      phoneNumber: validNumber,
      beginTime: fc.oneof(fc.constant(NOW - older), validTime(NOW - older)),
      endTime: fc.oneof(fc.constant(NOW - newer), validTime(NOW - newer)),
      limit: fc.oneof(fc.integer({ min: 1, max: 100 }), validLimit),
      all: fc.oneof(fc.boolean(), validAll),
    },
    { requiredKeys: ['phoneNumber'] },
  );
});

const directInput: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.object(),
  directRecord,
  fc
    .tuple(directRecord, fc.dictionary(queryKey, anyValue, { maxKeys: 2 }))
    .map(([known, extra]) => ({ ...extra, ...known })),
  validDirect,
);

function expectTaxonomyError(error: unknown): SmsStatusError {
  expect(error).toBeInstanceOf(SmsStatusError);
  const e = error as SmsStatusError;
  expect(TAXONOMY).toContain(e.name);
  expect(e.code).toMatch(/^[A-Za-z][\w.]*$/);
  expect(e.message.startsWith(`${e.code}: `)).toBe(true);
  return e;
}

/** One invocation of the direct adapter: its body or its error, and the Tencent requests it cost. */
type Outcome = { ok: true; body: unknown; spent: number } | { ok: false; error: unknown; spent: number };

async function invokeDirect(direct: Direct, fake: FakeClient, event: unknown): Promise<Outcome> {
  const callsBefore = fake.calls.length;
  try {
    const body = await direct(event as RawQuery, CONTEXT);
    return { ok: true, body, spent: fake.calls.length - callsBefore };
  } catch (error) {
    return { ok: false, error, spent: fake.calls.length - callsBefore };
  }
}

describe('lookup direct adapter: fuzzed invocations', () => {
  it('resolves or rejects every invocation, each outcome many times', async () => {
    const fake = fakeClient();
    const { direct } = lookupHandlers(fake, 4, 7000);
    const seen = { resolved: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(directInput, async (event) => {
        const outcome = await invokeDirect(direct, fake, event);
        seen[outcome.ok ? 'resolved' : 'rejected'] += 1;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // Both outcomes were exercised: the properties below are not vacuous.
    expect(seen.resolved).toBeGreaterThan(20);
    expect(seen.rejected).toBeGreaterThan(20);
  });

  it('a resolved invocation is a body for an E.164 number with its one receipt, after one Tencent request', async () => {
    const fake = fakeClient();
    const { direct } = lookupHandlers(fake, 4, 7000);
    await fc.assert(
      fc.asyncProperty(directInput, async (event) => {
        const outcome = await invokeDirect(direct, fake, event);
        if (!outcome.ok) return;
        const body = outcome.body as { phoneNumber: string; statuses: unknown[]; complete: boolean };
        expect(body.phoneNumber).toMatch(E164);
        expect(body.statuses).toHaveLength(1);
        expect(typeof body.complete).toBe('boolean');
        expect(outcome.spent).toBe(1);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('when Tencent answers, a rejection is InvalidInput alone (400, not retryable, short) and costs no request', async () => {
    const fake = fakeClient();
    const { direct } = lookupHandlers(fake, 4, 7000);
    await fc.assert(
      fc.asyncProperty(directInput, async (event) => {
        const outcome = await invokeDirect(direct, fake, event);
        if (outcome.ok) return;
        expect((outcome.error as Error).name).not.toBe('TypeError');
        const error = expectTaxonomyError(outcome.error);
        expect(error.name).toBe('InvalidInput');
        expect(error.statusCode).toBe(400);
        expect(error.retryable).toBe(false);
        expect(error.message.length).toBeLessThanOrEqual(300);
        expect(outcome.spent).toBe(0);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  describe('when every Tencent request fails', () => {
    const taxonomyCases = ERROR_CASES.filter((c) => c.status[0] !== 500);
    const event = fc.oneof(directInput, validDirect);
    const errorCase = fc.constantFrom(...taxonomyCases);

    /** The invocation's rejection (it must not resolve), the error Tencent last gave, and the requests made. */
    async function failedInvocation(
      event: unknown,
      errorCase: ErrorCase,
    ): Promise<{ error: SmsStatusError; thrown: Error | undefined; calls: number }> {
      let thrown: Error | undefined;
      const fake = fakeClient(() => (thrown = errorCase.make()));
      const { direct } = lookupHandlers(fake, 4, 7000);
      const outcome = await invokeDirect(direct, fake, event);
      if (outcome.ok) throw new Error(`resolved although every Tencent request fails: ${JSON.stringify(outcome.body)}`);
      return { error: expectTaxonomyError(outcome.error), thrown, calls: fake.calls.length };
    }

    it('an invocation refused before any request is the caller’s fault: InvalidInput', async () => {
      await fc.assert(
        fc.asyncProperty(event, errorCase, async (input, failure) => {
          const { error, calls } = await failedInvocation(input, failure);
          if (calls === 0) expect(error.name).toBe('InvalidInput');
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it('Tencent’s failure passes through unchanged, its RequestId in the message (Step Functions’ Retry/Catch match its name)', async () => {
      await fc.assert(
        fc.asyncProperty(event, errorCase, async (input, failure) => {
          const { error, thrown, calls } = await failedInvocation(input, failure);
          if (calls === 0) return;
          expect(error).toBe(thrown);
          if (error.requestId) expect(error.message).toContain(error.requestId);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  });
});
