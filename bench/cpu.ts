import { createRequire } from 'node:module';
import { fromTencent } from '#lib/status/from-tencent.ts';
import { sign } from '#lib/tencent/sign.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';

const require = createRequire(import.meta.url);
const Sign = require('tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js').default as {
  sign3(input: Record<string, unknown>): string;
};
const JSONbig = require('json-bigint')({ useNativeBigInt: true }) as { stringify(value: unknown): string };

const credentials = { secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE', secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE' };
const payload = {
  SmsSdkAppId: '1400006666',
  PhoneNumber: '+8613711112222',
  BeginTime: 1620734100,
  EndTime: 1620737700,
  Offset: 0,
  Limit: 100,
};
const statuses: PullSmsSendStatus[] = Array.from({ length: 100 }, (_, i) => ({
  UserReceiveTime: 1620734100 + i,
  CountryCode: '86',
  SubscriberNumber: '13711112222',
  PhoneNumber: '+8613711112222',
  SerialNo: `14:19325917feb3914eb78b50d6182d7e45${String(i).padStart(4, '0')}`,
  ReportStatus: 'SUCCESS',
  Description: 'DELIVRD',
}));
/** A full page: the answer every request of a window split parses. */
const responseBody = JSON.stringify({
  Response: { PullSmsSendStatusSet: statuses, RequestId: '8979fc1e-9564-4fc9-bf7d-2958ce679b72' },
});

/** Ours: serialise once, sign those bytes, parse and map the answer. */
function ours(timestamp: number): number {
  const body = Buffer.from(JSON.stringify(payload));
  const headers = {
    'Content-Type': 'application/json',
    Host: 'sms.tencentcloudapi.com',
    'X-TC-Action': 'PullSmsSendStatusByPhoneNumber',
  };
  const { authorization } = sign({ ...credentials, service: 'sms', timestamp, headers, payload: body });
  const parsed = JSON.parse(responseBody) as { Response: { PullSmsSendStatusSet: PullSmsSendStatus[] } };
  return authorization.length + body.length + parsed.Response.PullSmsSendStatusSet.map(fromTencent).length;
}

/** The SDK's path (http_connection.doRequestWithSign3): sign3 hashes its own serialisation, the body is serialised again, node-fetch's res.json() parses. */
function sdk(timestamp: number): number {
  const authorization = Sign.sign3({
    method: 'POST',
    url: 'https://sms.tencentcloudapi.com/',
    payload,
    timestamp,
    service: 'sms',
    ...credentials,
    headers: { 'Content-Type': 'application/json' },
  });
  const body = JSONbig.stringify(payload);
  const parsed = JSON.parse(responseBody) as { Response: { PullSmsSendStatusSet: PullSmsSendStatus[] } };
  // The SDK-based lookup maps the records to the same API shape.
  return authorization.length + body.length + parsed.Response.PullSmsSendStatusSet.map(fromTencent).length;
}

function opsPerSecond(work: (timestamp: number) => number, ms: number): number {
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += work(1620734100 + i);
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < ms) {
    for (let i = 0; i < 200; i++) sink += work(1620734100 + n + i);
    n += 200;
  }
  if (sink === 42) console.log(sink);
  return (n * 1000) / (performance.now() - started);
}

/** Requests/second of per-request CPU (sign + serialise + parse) on this one core; medians of `runs`. */
export function comparePerRequestCpu(runs = 5, ms = 700): { ours: number[]; sdk: number[] } {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(opsPerSecond(ours, ms));
    b.push(opsPerSecond(sdk, ms));
  }
  return { ours: a, sdk: b };
}

/** Signatures/second of the signer alone. */
export function signerThroughput(ms = 1000): number {
  const body = Buffer.from(JSON.stringify(payload));
  const headers = { 'content-type': 'application/json', host: 'sms.tencentcloudapi.com' };
  return opsPerSecond(
    (timestamp) => sign({ ...credentials, service: 'sms', timestamp, headers, payload: body }).signature.length,
    ms,
  );
}
