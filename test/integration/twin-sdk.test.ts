/**
 * The official Tencent Cloud Node SDK against the local twin: the twin must accept what the SDK sends,
 * unchanged, and answer with the codes the API document gives.
 */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { twinPerTest } from '../support/twin-per-test.ts';
import { sms } from 'tencentcloud-sdk-nodejs-sms';
import type {
  PullSmsSendStatus,
  PullSmsSendStatusByPhoneNumberRequest,
  PullSmsSendStatusByPhoneNumberResponse,
} from 'tencentcloud-sdk-nodejs-sms/tencentcloud/services/sms/v20210111/sms_models.js';
import { type Twin } from '../../local/twin/twin.ts';
import { rejection, seconds } from '../support/net.ts';

const ORDINARY = '+8613711112222';
const BUSY = '+8613800138000';
const OPTED_OUT = '+8613900139000';
const DAY = 24 * 3600;

interface SdkOptions {
  endpoint?: string;
  agent?: http.Agent;
  secretId?: string;
  secretKey?: string;
}

type SmsClient = InstanceType<typeof sms.v20210111.Client>;

function sdkClient(twin: Twin, options: SdkOptions = {}): SmsClient {
  return new sms.v20210111.Client({
    credential: {
      secretId: options.secretId ?? twin.credentials.secretId,
      secretKey: options.secretKey ?? twin.credentials.secretKey,
    },
    region: 'ap-guangzhou',
    profile: {
      httpProfile: {
        endpoint: options.endpoint ?? `127.0.0.1:${twin.port}`,
        protocol: 'http://',
        reqTimeout: 10,
        agent: options.agent,
      },
    },
  });
}

/** A request the twin accepts: the last hour of the ordinary demo number. */
function request(
  twin: Twin,
  patch: Partial<PullSmsSendStatusByPhoneNumberRequest> = {},
): PullSmsSendStatusByPhoneNumberRequest {
  const now = seconds(twin.now());
  return {
    SmsSdkAppId: twin.sdkAppId,
    PhoneNumber: ORDINARY,
    BeginTime: now - 3600,
    EndTime: now,
    Offset: 0,
    Limit: 10,
    ...patch,
  };
}

interface SdkError {
  code?: string;
  requestId?: string;
  httpCode?: number;
}

async function sdkError(promise: Promise<unknown>): Promise<SdkError> {
  return (await rejection(() => promise)) as SdkError;
}

/** The whole-hour busy window of +8613800138000, read from the twin's ground truth. */
function busyWindow(twin: Twin): { begin: number; end: number; truth: PullSmsSendStatus[] } {
  const now = seconds(twin.now());
  const truth = twin.truth(BUSY, now - 7 * DAY, now);
  const times = truth.map((s) => s.UserReceiveTime as number);
  return { begin: Math.min(...times), end: Math.max(...times), truth };
}

const start = twinPerTest();

describe('official SDK against the twin: signatures', () => {
  it('(a) accepts the right key at endpoint 127.0.0.1:PORT over http://', async () => {
    const t = await start();
    const response = await sdkClient(t).PullSmsSendStatusByPhoneNumber(
      request(t, { BeginTime: seconds(t.now()) - 7 * DAY + 60, Limit: 100 }),
    );
    expect(response.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.PullSmsSendStatusSet?.length).toBeGreaterThan(0);
    expect(t.stats()).toMatchObject({ received: 1, accepted: 1, ok: 1 });
  });

  it('(b) accepts the production signature: real host name, agent connecting to loopback', async () => {
    const t = await start();
    let connections = 0;
    class LoopbackAgent extends http.Agent {
      override createConnection(): net.Socket {
        connections += 1;
        return net.connect({ host: '127.0.0.1', port: t.port });
      }
    }
    const response = await sdkClient(t, {
      endpoint: 'sms.tencentcloudapi.com',
      agent: new LoopbackAgent(),
    }).PullSmsSendStatusByPhoneNumber(request(t));
    expect(response.RequestId).toBeTruthy();
    expect(Array.isArray(response.PullSmsSendStatusSet)).toBe(true);
    expect(connections).toBe(1);
    expect(t.stats()).toMatchObject({ received: 1, ok: 1 });
  });

  it('(c) answers AuthFailure.SignatureFailure for a wrong secretKey', async () => {
    const t = await start();
    const error = await sdkError(
      sdkClient(t, { secretKey: `${t.credentials.secretKey}x` }).PullSmsSendStatusByPhoneNumber(request(t)),
    );
    expect(error.code).toBe('AuthFailure.SignatureFailure');
    expect(error.requestId).toBeTruthy();
  });

  it('(c) answers AuthFailure.SecretIdNotFound for a wrong secretId', async () => {
    const t = await start();
    const error = await sdkError(
      sdkClient(t, { secretId: 'AKIDunknown0000000000000000000000' }).PullSmsSendStatusByPhoneNumber(request(t)),
    );
    expect(error.code).toBe('AuthFailure.SecretIdNotFound');
  });

  it('(c) a wrong key is refused on the production path too', async () => {
    const t = await start();
    class LoopbackAgent extends http.Agent {
      override createConnection(): net.Socket {
        return net.connect({ host: '127.0.0.1', port: t.port });
      }
    }
    const client = sdkClient(t, {
      endpoint: 'sms.tencentcloudapi.com',
      agent: new LoopbackAgent(),
      secretKey: 'wrong',
    });
    expect((await sdkError(client.PullSmsSendStatusByPhoneNumber(request(t)))).code).toBe(
      'AuthFailure.SignatureFailure',
    );
  });

  it('(d) answers AuthFailure.SignatureExpire when the timestamp is 10 minutes stale', async () => {
    const t = await start({ clock: Date.now() + 10 * 60_000 });
    const error = await sdkError(sdkClient(t).PullSmsSendStatusByPhoneNumber(request(t)));
    expect(error.code).toBe('AuthFailure.SignatureExpire');
  });

  it('(d) accepts a timestamp 4 minutes off (inside the 5-minute skew)', async () => {
    const t = await start({ clock: Date.now() + 4 * 60_000 });
    const response = await sdkClient(t).PullSmsSendStatusByPhoneNumber(request(t));
    expect(Array.isArray(response.PullSmsSendStatusSet)).toBe(true);
  });
});

describe('official SDK against the twin: parameters', () => {
  const cases: Array<[string, (t: Twin) => Partial<PullSmsSendStatusByPhoneNumberRequest>, string]> = [
    [
      'a phone number without +country code',
      () => ({ PhoneNumber: '13711112222' }),
      'InvalidParameterValue.IncorrectPhoneNumber',
    ],
    [
      'BeginTime older than 7 days',
      (t) => ({ BeginTime: seconds(t.now()) - 7 * DAY - 60 }),
      'InvalidParameterValue.BeginTimeVerifyFail',
    ],
    [
      'EndTime before BeginTime',
      (t) => ({ EndTime: seconds(t.now()) - 7200 }),
      'InvalidParameterValue.InvalidStartTime',
    ],
    ['Limit 101', () => ({ Limit: 101 }), 'InvalidParameterValue.LimitVerifyFail'],
    ['Offset 1', () => ({ Offset: 1 }), 'InvalidParameterValue.OffsetVerifyFail'],
    ['another SmsSdkAppId', () => ({ SmsSdkAppId: '1400009999' }), 'UnauthorizedOperation.SmsSdkAppIdVerifyFail'],
    ['a non-numeric SmsSdkAppId', () => ({ SmsSdkAppId: 'my-app' }), 'InvalidParameterValue.SdkAppIdNotExist'],
    ['an opted-out number', () => ({ PhoneNumber: OPTED_OUT }), 'FailedOperation.PhoneNumberInBlacklist'],
  ];

  it.each(cases)('(e) %s → %s', async (_name, patch, code) => {
    const t = await start();
    const error = await sdkError(sdkClient(t).PullSmsSendStatusByPhoneNumber(request(t, patch(t))));
    expect(error.code).toBe(code);
    expect(error.requestId).toBeTruthy();
  });

  it('(e) a missing PhoneNumber → MissingParameter', async () => {
    const t = await start();
    const { PhoneNumber: _omitted, ...withoutPhone } = request(t);
    const error = await sdkError(
      sdkClient(t).PullSmsSendStatusByPhoneNumber(withoutPhone as PullSmsSendStatusByPhoneNumberRequest),
    );
    expect(error.code).toBe('MissingParameter');
  });
});

describe('official SDK against the twin: rate limit and records', () => {
  it('(f) accepts 20 requests in a second and answers RequestLimitExceeded past them', async () => {
    const t = await start();
    const client = sdkClient(t);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => client.PullSmsSendStatusByPhoneNumber(request(t))),
    );
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as SdkError).code] : []));
    expect(accepted).toHaveLength(20);
    expect(codes.filter((c) => c === 'RequestLimitExceeded').length).toBeGreaterThanOrEqual(10);
    expect(codes.every((c) => c === 'RequestLimitExceeded')).toBe(true);
    expect(t.stats()).toMatchObject({ received: 30, accepted: 20, throttled: 10, maxPerSecond: 20 });
  });

  it('(g) returns at most Limit records, every one inside the window and true', async () => {
    const t = await start();
    const { begin, end, truth } = busyWindow(t);
    expect(truth).toHaveLength(600);
    const bySerial = new Map(truth.map((s) => [s.SerialNo, s]));
    const client = sdkClient(t);
    // A quarter of the busy hour: about 150 records, so a Limit of 100 or 7 is always reached.
    const windowEnd = begin + Math.floor((end - begin) / 4);
    for (const limit of [7, 100]) {
      const response: PullSmsSendStatusByPhoneNumberResponse = await client.PullSmsSendStatusByPhoneNumber(
        request(t, { PhoneNumber: BUSY, BeginTime: begin, EndTime: windowEnd, Limit: limit }),
      );
      const set = response.PullSmsSendStatusSet ?? [];
      expect(set).toHaveLength(limit);
      for (const status of set) {
        expect(status.UserReceiveTime).toBeGreaterThanOrEqual(begin);
        expect(status.UserReceiveTime).toBeLessThanOrEqual(windowEnd);
        expect(status).toEqual(bySerial.get(status.SerialNo));
      }
      expect(new Set(set.map((s) => s.SerialNo)).size).toBe(set.length);
    }
    // A window with fewer records than Limit returns all of them.
    const small = truth.slice(0, 5);
    const smallEnd = small[small.length - 1]?.UserReceiveTime as number;
    const expected = t.truth(BUSY, begin, smallEnd);
    const response = await client.PullSmsSendStatusByPhoneNumber(
      request(t, { PhoneNumber: BUSY, BeginTime: begin, EndTime: smallEnd, Limit: 100 }),
    );
    expect(new Set(response.PullSmsSendStatusSet?.map((s) => s.SerialNo))).toEqual(
      new Set(expected.map((s) => s.SerialNo)),
    );
  });

  it('(g) answers identical calls in varying order (no guaranteed order, Limit cuts a different subset)', async () => {
    const t = await start();
    const { begin, end } = busyWindow(t);
    const client = sdkClient(t);
    const call = async (): Promise<string[]> =>
      (
        (
          await client.PullSmsSendStatusByPhoneNumber(
            request(t, { PhoneNumber: BUSY, BeginTime: begin, EndTime: end, Limit: 100 }),
          )
        ).PullSmsSendStatusSet ?? []
      ).map((s) => s.SerialNo as string);
    const first = await call();
    const second = await call();
    expect(first).toHaveLength(100);
    expect(second).toHaveLength(100);
    expect(second).not.toEqual(first);
    // Not sorted by receive time either: callers must sort.
    const times = first.map(
      (serial) => t.truth(BUSY, begin, end).find((s) => s.SerialNo === serial)?.UserReceiveTime as number,
    );
    expect(times).not.toEqual([...times].sort((a, b) => a - b));
  });
});
