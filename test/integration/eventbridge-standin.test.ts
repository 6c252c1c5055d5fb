/**
 * The local EventBridge stand-in (local/eventbridge/) driven with the real AWS SDK v3 EventBridgeClient:
 * AWS's whole-call limits (1–10 entries, total size by AWS's computation, exact boundary, multi-byte
 * text), its per-entry refusals, injected failures (seeded, so a run replays), down mode, the events
 * route and its cursor, the JSON-lines file, closing, and AWS_ENDPOINT_URL_EVENTBRIDGE.
 */
import { connect } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeEventBusCommand,
  EventBridgeClient,
  EventBridgeServiceException,
  ListRulesCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventBridge, type EventBridge, type EventBridgeOptions } from '../../local/eventbridge/eventbridge.ts';

const REGION = 'eu-west-1';
const SOURCE = 'sms-status';
const DETAIL_TYPE = 'SMS Delivery Status Updated';

let eb: EventBridge;
let client: EventBridgeClient;
const started: EventBridge[] = [];
const clients: EventBridgeClient[] = [];

async function standIn(options: EventBridgeOptions = {}): Promise<EventBridge> {
  const instance = await startEventBridge(options);
  started.push(instance);
  return instance;
}

function clientFor(instance: EventBridge, maxAttempts = 1): EventBridgeClient {
  const made = new EventBridgeClient({
    endpoint: instance.url,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts,
  });
  clients.push(made);
  return made;
}

beforeAll(async () => {
  eb = await standIn({ buses: ['sms-status'] });
  client = clientFor(eb);
});

afterAll(async () => {
  for (const made of clients) made.destroy();
  await Promise.all(started.map((instance) => instance.close()));
});

type Entry = PutEventsRequestEntry;

function entry(detail: Record<string, unknown> = { messageId: 'm-1' }, extra: Partial<Entry> = {}): Entry {
  return { Source: SOURCE, DetailType: DETAIL_TYPE, Detail: JSON.stringify(detail), ...extra };
}

/** An entry with a Detail as given, JSON or not. */
function rawEntry(Detail: string): Entry {
  return { Source: SOURCE, DetailType: DETAIL_TYPE, Detail };
}

function put(entries: Entry[], using = client) {
  return using.send(new PutEventsCommand({ Entries: entries }));
}

async function failure(promise: Promise<unknown>): Promise<EventBridgeServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as EventBridgeServiceException;
  }
  throw new Error('expected the call to fail');
}

function codes(entries: PutEventsResultEntry[] | undefined): Array<string | undefined> {
  return (entries ?? []).map((result) => result.ErrorCode);
}

/** UTF-8 bytes counted independently of the stand-in's own function. */
const utf8 = (text: string): number => new TextEncoder().encode(text).length;

describe('a good call', () => {
  it('answers an EventId per entry and keeps each event as a rule target would get it', async () => {
    const before = eb.stats();
    const time = new Date('2026-03-04T05:06:07.890Z');
    const answer = await put([
      entry({ messageId: 'm-1', status: 'DELIVRD' }, { Time: time, Resources: ['arn:aws:s3:::lake/obj'] }),
      entry({ messageId: 'm-2' }, { EventBusName: 'sms-status' }),
    ]);

    expect(answer.FailedEntryCount).toBe(0);
    expect(answer.Entries).toHaveLength(2);
    const ids = answer.Entries!.map((result) => result.EventId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    const kept = eb.events().filter((stored) => ids.includes(stored.event.id));
    expect(kept.map((stored) => stored.bus)).toEqual(['default', 'sms-status']);
    expect(kept[0]!.event).toEqual({
      version: '0',
      id: ids[0],
      'detail-type': DETAIL_TYPE,
      source: SOURCE,
      account: '000000000000',
      time: '2026-03-04T05:06:07Z',
      region: REGION,
      resources: ['arn:aws:s3:::lake/obj'],
      detail: { messageId: 'm-1', status: 'DELIVRD' },
    });
    // No Time: the time of arrival.
    expect(Math.abs(Date.parse(kept[1]!.event.time) - Date.now())).toBeLessThan(60_000);
    expect(kept[1]!.seq).toBe(kept[0]!.seq + 1);
    const after = eb.stats();
    expect(after.calls - before.calls).toBe(1);
    expect(after.entriesAccepted - before.entriesAccepted).toBe(2);
  });

  it('takes a bus named by its ARN', async () => {
    const arn = `arn:aws:events:${REGION}:000000000000:event-bus/sms-status`;
    const answer = await put([entry({ messageId: 'arn' }, { EventBusName: arn })]);
    expect(answer.FailedEntryCount).toBe(0);
    expect(eb.events().find((stored) => stored.event.id === answer.Entries![0]!.EventId)?.bus).toBe('sms-status');
  });
});

describe('whole-call refusals', () => {
  it('refuses 11 entries with a ValidationException and keeps none of them', async () => {
    const before = eb.stats();
    const error = await failure(put(Array.from({ length: 11 }, (_, i) => entry({ i }))));
    expect(error).toBeInstanceOf(EventBridgeServiceException);
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toContain('less than or equal to 10');
    const after = eb.stats();
    expect(after.entriesAccepted).toBe(before.entriesAccepted);
    expect(after.callsInvalid - before.callsInvalid).toBe(1);
  });

  it('takes exactly 10 entries, and refuses none at all', async () => {
    expect((await put(Array.from({ length: 10 }, (_, i) => entry({ i })))).FailedEntryCount).toBe(0);
    const error = await failure(put([]));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain('greater than or equal to 1');
  });

  it('refuses an invalid Date with a SerializationException: the SDK sends Time as NaN, not JSON', async () => {
    const error = await failure(put([entry({}, { Time: new Date('not a date') })]));
    expect(error.name).toBe('SerializationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });
});

describe('the size limit, by AWS computation: the entries must total less than 256 KiB', () => {
  const LIMIT = 256 * 1024;
  const FILLER = '中'; // 3 UTF-8 bytes, 1 UTF-16 unit: a length-based count would be far too low.

  /**
   * Three entries of `total` bytes as AWS counts them: each with Time (14), Source, DetailType, a
   * Resource, a bus name and a trace header (which count nothing), and a Detail padded with multi-byte
   * text, then ASCII to land on the byte.
   */
  function entriesTotalling(total: number): Entry[] {
    const fixed = (detail: string) => 14 + utf8(SOURCE) + utf8(DETAIL_TYPE) + utf8('arn:aws:sms:x') + utf8(detail);
    const third = Math.floor(total / 3);
    return [third, third, total - 2 * third].map((share, i) => {
      const base = fixed(JSON.stringify({ i, pad: '' }));
      const wide = Math.floor((share - base) / 3);
      const pad = FILLER.repeat(wide) + 'x'.repeat(share - base - 3 * wide);
      const detail = JSON.stringify({ i, pad });
      expect(fixed(detail)).toBe(share);
      const uncounted = { EventBusName: 'sms-status', TraceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793' };
      return entry({ i, pad }, { Time: new Date(), Resources: ['arn:aws:sms:x'], ...uncounted });
    });
  }

  it('takes entries totalling 262143 bytes', async () => {
    const answer = await put(entriesTotalling(LIMIT - 1));
    expect(answer.FailedEntryCount).toBe(0);
  });

  it('refuses entries totalling 262144 bytes, though their JavaScript length is a third of it', async () => {
    const entries = entriesTotalling(LIMIT);
    const jsLength = entries.reduce((sum, e) => sum + e.Source!.length + e.DetailType!.length + e.Detail!.length, 0);
    expect(jsLength).toBeLessThan(LIMIT / 2);
    const error = await failure(put(entries));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe('Total size of the entries in the request is over the limit.');
  });

  it("holds AWS's raised limit (1 MiB) when started with it", async () => {
    const wide = await standIn({ buses: ['sms-status'], maxRequestBytes: 1024 * 1024 });
    const wideClient = clientFor(wide);
    expect((await put(entriesTotalling(1024 * 1024 - 1), wideClient)).FailedEntryCount).toBe(0);
    expect((await failure(put(entriesTotalling(1024 * 1024), wideClient))).name).toBe('ValidationException');
  });
});

describe('entry refusals: the call succeeds, the answer matches the request one for one', () => {
  it('refuses a Detail that is not a JSON object as MalformedDetail', async () => {
    const answer = await put([
      rawEntry('not json'),
      rawEntry('[1, 2]'),
      entry({ ok: true }),
      rawEntry('"a string"'),
      rawEntry('null'),
    ]);
    expect(answer.FailedEntryCount).toBe(4);
    const malformed = 'MalformedDetail';
    expect(codes(answer.Entries)).toEqual([malformed, malformed, undefined, malformed, malformed]);
    expect(answer.Entries![2]!.EventId).toBeTruthy();
    expect(answer.Entries![0]!.ErrorMessage).toBe('Detail is malformed.');
  });

  it('refuses an entry without Source, DetailType or Detail as InvalidArgument naming the field', async () => {
    const answer = await put([
      { DetailType: DETAIL_TYPE, Detail: '{}' },
      { Source: SOURCE, Detail: '{}' },
      { Source: SOURCE, DetailType: DETAIL_TYPE },
      { Source: SOURCE, DetailType: DETAIL_TYPE, Detail: '' },
    ]);
    expect(codes(answer.Entries)).toEqual(['InvalidArgument', 'InvalidArgument', 'InvalidArgument', 'InvalidArgument']);
    expect(answer.Entries!.map((result) => result.ErrorMessage)).toEqual([
      'Parameter Source is not valid. Reason: Source is a required argument.',
      'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
      'Parameter Detail is not valid. Reason: Detail is a required argument.',
      'Parameter Detail is not valid. Reason: Detail is a required argument.',
    ]);
  });

  it('refuses a source starting with aws. as NotAuthorizedForSourceException', async () => {
    const answer = await put([entry({}, { Source: 'aws.sms-voice' }), entry({}, { Source: 'awsome.app' })]);
    expect(codes(answer.Entries)).toEqual(['NotAuthorizedForSourceException', undefined]);
    expect(answer.FailedEntryCount).toBe(1);
  });

  it('refuses an entry for a bus the stand-in was not started with as ResourceNotFoundException', async () => {
    const before = eb.stats();
    const answer = await put([entry({}, { EventBusName: 'sms-statuz' }), entry({}, { EventBusName: 'sms-status' })]);
    expect(codes(answer.Entries)).toEqual(['ResourceNotFoundException', undefined]);
    expect(answer.Entries![0]!.ErrorMessage).toBe('Event bus sms-statuz does not exist.');
    const after = eb.stats();
    const notFound = (stats: typeof before) => stats.entriesRefused.ResourceNotFoundException ?? 0;
    expect(notFound(after) - notFound(before)).toBe(1);
    expect(after.entriesAccepted - before.entriesAccepted).toBe(1);
  });

  it("in 'drop' mode answers an EventId for an unknown bus and keeps nothing, as AWS does", async () => {
    const dropping = await standIn({ unknownBus: 'drop' });
    const answer = await put([entry({}, { EventBusName: 'nowhere' })], clientFor(dropping));
    expect(answer.FailedEntryCount).toBe(0);
    expect(answer.Entries![0]!.EventId).toBeTruthy();
    expect(dropping.events()).toEqual([]);
    expect(dropping.stats()).toMatchObject({ entriesDropped: 1, entriesAccepted: 0 });
  });
});

describe('injected entry failures', () => {
  async function failedIndexes(instance: EventBridge, using: EventBridgeClient, calls: number): Promise<number[]> {
    const failed: number[] = [];
    for (let call = 0; call < calls; call++) {
      const answer = await put(
        Array.from({ length: 10 }, (_, i) => entry({ call, i })),
        using,
      );
      answer.Entries!.forEach((result, i) => {
        if (result.ErrorCode) failed.push(call * 10 + i);
      });
      expect(answer.FailedEntryCount).toBe(answer.Entries!.filter((result) => result.ErrorCode).length);
    }
    return failed;
  }

  it('refuses about the configured share of good entries, the same ones again for the same seed', async () => {
    const flaky = await standIn({ entryFailureRate: 0.3, seed: 7 });
    const flakyClient = clientFor(flaky);
    const first = await failedIndexes(flaky, flakyClient, 40);
    expect(first.length).toBeGreaterThan(0.2 * 400);
    expect(first.length).toBeLessThan(0.4 * 400);
    expect(flaky.stats().entriesRefused).toEqual({ InternalFailure: first.length });
    expect(flaky.stats().entriesAccepted).toBe(400 - first.length);

    flaky.configure({ seed: 7, entryFailureCode: 'ThrottlingException' });
    const again = await failedIndexes(flaky, flakyClient, 40);
    expect(again).toEqual(first);
    expect(flaky.stats().entriesRefused).toEqual({ InternalFailure: first.length, ThrottlingException: first.length });
  });

  it('never injects into an entry that is refused anyway, and injects nothing at rate 0', async () => {
    const flaky = await standIn({ entryFailureRate: 1 });
    const answer = await put([entry(), rawEntry('nope')], clientFor(flaky));
    expect(codes(answer.Entries)).toEqual(['InternalFailure', 'MalformedDetail']);
    flaky.configure({ entryFailureRate: 0 });
    expect((await put([entry()], clientFor(flaky))).FailedEntryCount).toBe(0);
  });
});

describe('whole-call throttling and down mode', () => {
  it('throttles a whole call: the SDK raises ThrottlingException (maxAttempts 1: no retry)', async () => {
    const throttled = await standIn({ callThrottleRate: 1 });
    const error = await failure(put([entry()], clientFor(throttled, 1)));
    expect(error).toBeInstanceOf(EventBridgeServiceException);
    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.attempts).toBe(1);
    expect(throttled.stats()).toMatchObject({ calls: 1, callsThrottled: 1, entriesAccepted: 0 });
  });

  it('is retried by the SDK as throttling when it allows retries', async () => {
    const throttled = await standIn({ callThrottleRate: 1 });
    const error = await failure(put([entry()], clientFor(throttled, 2)));
    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata.attempts).toBe(2);
    expect(throttled.stats().callsThrottled).toBe(2);
  });

  it('down mode: every call is a 500 InternalException the SDK retries, until turned off over HTTP', async () => {
    const flaky = await standIn();
    const configure = async (patch: object) => {
      const body = JSON.stringify(patch);
      const answer = await fetch(`${flaky.url}/_eventbridge/configure`, { method: 'POST', body });
      return answer.json();
    };
    expect(await configure({ down: true })).toMatchObject({ down: true });

    const error = await failure(put([entry()], clientFor(flaky, 2)));
    expect(error.name).toBe('InternalException');
    expect(error.$fault).toBe('server');
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(error.$metadata.attempts).toBe(2);
    expect(flaky.stats()).toMatchObject({ calls: 2, callsDown: 2, entriesAccepted: 0 });

    expect(await configure({ down: false })).toMatchObject({ down: false });
    expect((await put([entry()], clientFor(flaky))).FailedEntryCount).toBe(0);
  });

  it('refuses a bad setting, naming it', async () => {
    const post = (body: string) => fetch(`${eb.url}/_eventbridge/configure`, { method: 'POST', body });
    for (const [body, named] of [
      ['{"entryFailureRate": 2}', 'entryFailureRate'],
      ['{"entryFailureCode": "Boom"}', 'entryFailureCode'],
      ['{"down": "yes"}', 'down'],
      ['{"speed": 1}', 'speed'],
      ['[1]', 'JSON object'],
      ['{', 'JSON'],
    ] as const) {
      const answer = await post(body);
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { error: string }).error).toContain(named);
    }
    expect(() => eb.configure({ callThrottleRate: -1 })).toThrow(/callThrottleRate/);
    expect(eb.settings()).toMatchObject({ down: false, callThrottleRate: 0, entryFailureRate: 0 });
  });
});

describe('the protocol', () => {
  it('answers an operation it does not serve with UnknownOperationException, which the SDK names', async () => {
    const error = await failure(client.send(new ListRulesCommand({})));
    expect(error.name).toBe('UnknownOperationException');
    expect(error.$metadata.httpStatusCode).toBe(400);

    const headers = { 'x-amz-target': 'AWSEvents.Nope', 'content-type': 'application/x-amz-json-1.1' };
    const raw = await fetch(eb.url, { method: 'POST', headers, body: '{}' });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await raw.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('refuses fields of the wrong type with a SerializationException naming them', async () => {
    const send = async (body: unknown) => {
      const headers = { 'x-amz-target': 'AWSEvents.PutEvents' };
      const answer = await fetch(eb.url, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: answer.status, body: (await answer.json()) as { __type: string; message: string } };
    };
    expect(await send({ Entries: [{ Source: 5 }] })).toEqual({
      status: 400,
      body: { __type: 'SerializationException', message: 'Entries[0].Source must be a string' },
    });
    expect((await send({ Entries: [{ Resources: 'r' }] })).body.message).toBe(
      'Entries[0].Resources must be a list of strings',
    );
    expect((await send({ Entries: [{ ...entry(), Time: '2026-01-01' }] })).body.message).toBe(
      'Entries[0].Time must be a timestamp in epoch seconds',
    );
    expect((await send({ Entries: 'x' })).body.__type).toBe('SerializationException');
    expect((await send({})).body).toMatchObject({ __type: 'ValidationException' });
    // Keys named like the stand-in's own error objects are still just data.
    const lookalike = { type: 'ValidationException', status: 500, message: 'x' };
    expect((await send({ ...lookalike, Entries: [{ ...entry(), ...lookalike }] })).status).toBe(200);
  });

  it('refuses a Time beyond any date as InvalidArgument, on that entry alone', async () => {
    const headers = { 'x-amz-target': 'AWSEvents.PutEvents' };
    const body = JSON.stringify({
      Entries: [
        { ...entry(), Time: 1e300 },
        { ...entry(), Time: 1_700_000_000 },
      ],
    });
    const answer = (await (await fetch(eb.url, { method: 'POST', headers, body })).json()) as {
      FailedEntryCount: number;
      Entries: PutEventsResultEntry[];
    };
    expect(answer.FailedEntryCount).toBe(1);
    expect(codes(answer.Entries)).toEqual(['InvalidArgument', undefined]);
    expect(answer.Entries[0]!.ErrorMessage).toMatch(/^Parameter Time is not valid/);
    const kept = eb.events().find((stored) => stored.event.id === answer.Entries[1]!.EventId);
    expect(kept?.event.time).toBe('2023-11-14T22:13:20Z');
  });

  it('describes the buses it has, and no other', async () => {
    const arn = `arn:aws:events:${REGION}:000000000000:event-bus/default`;
    expect(await client.send(new DescribeEventBusCommand({}))).toMatchObject({ Name: 'default', Arn: arn });
    const custom = await client.send(new DescribeEventBusCommand({ Name: 'sms-status' }));
    expect(custom).toMatchObject({ Name: 'sms-status' });
    const error = await failure(client.send(new DescribeEventBusCommand({ Name: 'sms-statuz' })));
    expect(error.name).toBe('ResourceNotFoundException');
  });
});

describe('observing accepted events', () => {
  it('serves them at /_eventbridge/events, with a cursor for only the newer ones', async () => {
    type Page = { total: number; next: number; events: Array<{ seq: number; event: { id: string } }> };
    const read = async (query = '') => (await (await fetch(`${eb.url}/_eventbridge/events${query}`)).json()) as Page;
    const start = await read();
    expect(start.total).toBe(eb.stats().entriesAccepted);
    const answer = await put([entry({ n: 1 }), entry({ n: 2 })]);
    const newer = await read(`?since=${start.next}`);
    expect(newer.events.map((stored) => stored.event.id)).toEqual(answer.Entries!.map((result) => result.EventId));
    expect(newer.next).toBe(start.next + 2);
    expect(newer.total).toBe(start.total + 2);
    expect((await read(`?since=${newer.next}`)).events).toEqual([]);
    expect((await read(`?since=${newer.next}`)).next).toBe(newer.next);
    for (const bad of ['-1', 'abc', '1.5', '']) {
      expect((await fetch(`${eb.url}/_eventbridge/events?since=${bad}`)).status).toBe(400);
    }
    expect((await fetch(`${eb.url}/_eventbridge/nothing`)).status).toBe(404);
    expect((await fetch(`${eb.url}/_eventbridge/events`, { method: 'POST' })).status).toBe(405);
  });

  it('keeps only the most recent maxEvents in memory, and counts them all', async () => {
    const small = await standIn({ maxEvents: 3 });
    const smallClient = clientFor(small);
    await put([entry({ n: 1 }), entry({ n: 2 })], smallClient);
    await put([entry({ n: 3 }), entry({ n: 4 }), entry({ n: 5 })], smallClient);
    expect(small.events().map((stored) => [stored.seq, stored.event.detail.n])).toEqual([
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    expect(small.stats()).toMatchObject({ entriesAccepted: 5, eventsKept: 3 });
  });

  it('appends each event as a JSON line to the file, written before the call is answered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eventbridge-'));
    try {
      const file = join(dir, 'events.jsonl');
      const sink = await standIn({ eventsFile: file, buses: ['sms-status'] });
      const sinkClient = clientFor(sink);
      await put([entry({ n: 1 }), rawEntry('bad'), entry({ n: 2 }, { EventBusName: 'sms-status' })], sinkClient);
      const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
      expect(lines.map((line) => JSON.parse(line))).toEqual(sink.events());
      expect(lines).toHaveLength(2);
      await put([entry({ n: 3 })], sinkClient);
      await sink.close();
      expect((await readFile(file, 'utf8')).trimEnd().split('\n')).toHaveLength(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('reaching it', () => {
  it('is reached by a default-constructed client through AWS_ENDPOINT_URL_EVENTBRIDGE', async () => {
    const names = ['AWS_ENDPOINT_URL_EVENTBRIDGE', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_EVENTBRIDGE: eb.url,
      AWS_REGION: 'ap-southeast-1',
      AWS_ACCESS_KEY_ID: 'env',
      AWS_SECRET_ACCESS_KEY: 'env',
    });
    const fromEnv = new EventBridgeClient({ maxAttempts: 1 });
    try {
      const answer = await put([entry({ via: 'env' })], fromEnv);
      const stored = eb.events().find((event) => event.event.id === answer.Entries![0]!.EventId);
      expect(stored?.event).toMatchObject({ region: 'ap-southeast-1', detail: { via: 'env' } });
    } finally {
      fromEnv.destroy();
      for (const name of names) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  it('leaves nothing listening once closed: connections are refused', async () => {
    const closing = await startEventBridge();
    const closingClient = clientFor(closing);
    expect((await put([entry()], closingClient)).FailedEntryCount).toBe(0);
    await closing.close();
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = connect(closing.port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });
    expect(refused).toBe('ECONNREFUSED');
    const error = (await failure(put([entry()], closingClient))) as unknown as NodeJS.ErrnoException;
    expect(error.code).toBe('ECONNREFUSED');
  });
});
