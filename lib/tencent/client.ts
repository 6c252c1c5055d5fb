import type http from 'node:http';
import type https from 'node:https';
import { fromTencentError } from './codes.ts';
import { SmsStatusError, UpstreamRejected, UpstreamUnavailable } from '#lib/errors.ts';
import { sign } from './sign.ts';
import {
  ACTION,
  SERVICE,
  VERSION,
  type CredentialSource,
  type PullSmsSendStatus,
  type PullSmsSendStatusByPhoneNumberRequest,
} from './types.ts';

export interface ClientOptions {
  /** Base URL: https://sms.tencentcloudapi.com, a regional or international host, or a loopback twin. */
  endpoint: string;
  region: string;
  sdkAppId: string;
  credentials: CredentialSource;
  timeoutMs?: number;
  language?: 'en-US' | 'zh-CN';
  /** Clock in milliseconds, for signing timestamps. */
  now?: () => number;
  agent?: http.Agent;
  /** Told of every request once it is answered or failed (latency metrics, debug logs). */
  observe?: (exchange: Exchange) => void;
}

/** One request and how it went: never headers, never the body. */
export interface Exchange {
  request: PullRequest;
  latencyMs: number;
  requestId?: string;
  records?: number;
  code?: string;
}

export interface PullRequest {
  phoneNumber: string;
  beginTime: number;
  endTime: number;
  limit: number;
}

export interface PullPage {
  statuses: PullSmsSendStatus[];
  requestId: string;
  /** Set when the request's BeginTime was moved up to Tencent's 7-day edge: what it actually covered from. */
  servedFrom?: number;
}

export interface TencentClient {
  pull(request: PullRequest): Promise<PullPage>;
}

interface RawResponse {
  status: number;
  body: string;
}

const USER_AGENT = 'sms-status/0.1';
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** Sockets to Tencent at most; the pacer keeps as many requests in flight (connect.ts). */
export const MAX_SOCKETS = 64;

export function createClient(options: ClientOptions): TencentClient {
  const url = new URL(options.endpoint);
  // getBuiltinModule skips building the ESM namespace of node:http, whose lazy exports cost ~25 ms
  // of every cold start; only the transport in use is loaded.
  const transport = (
    url.protocol === 'https:' ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http')
  ) as typeof http | typeof https;
  const agent = options.agent ?? new transport.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  const observe = (request: PullRequest, started: number, outcome: Omit<Exchange, 'request' | 'latencyMs'>): void =>
    options.observe?.({ request, latencyMs: performance.now() - started, ...outcome });

  async function pull(request: PullRequest): Promise<PullPage> {
    const credentials = await options.credentials.get();
    const payload: PullSmsSendStatusByPhoneNumberRequest = {
      SmsSdkAppId: options.sdkAppId,
      PhoneNumber: request.phoneNumber,
      BeginTime: request.beginTime,
      EndTime: request.endTime,
      Offset: 0,
      Limit: request.limit,
    };
    // Serialised once: the signed hash must be of exactly these bytes.
    const body = Buffer.from(JSON.stringify(payload));
    const timestamp = Math.floor(now() / 1000);
    const signed = { 'Content-Type': 'application/json', Host: url.host, 'X-TC-Action': ACTION };
    const { authorization } = sign({ ...credentials, service: SERVICE, timestamp, headers: signed, payload: body });
    const headers: http.OutgoingHttpHeaders = {
      ...signed,
      Authorization: authorization,
      'Content-Length': body.length,
      'X-TC-Version': VERSION,
      'X-TC-Timestamp': String(timestamp),
      'X-TC-Region': options.region,
      'X-TC-RequestClient': USER_AGENT,
    };
    if (credentials.token) headers['X-TC-Token'] = credentials.token;
    if (options.language) headers['X-TC-Language'] = options.language;
    const started = performance.now();
    try {
      const page = parse(await send(transport, agent, url, headers, body, timeoutMs));
      observe(request, started, { requestId: page.requestId, records: page.statuses.length });
      return page;
    } catch (error) {
      const { code, requestId } = error as SmsStatusError;
      observe(request, started, { code, requestId });
      throw error;
    }
  }

  return { pull };
}

function send(
  transport: typeof http | typeof https,
  agent: http.Agent,
  url: URL,
  headers: http.OutgoingHttpHeaders,
  body: Buffer,
  timeoutMs: number,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = transport.request(
      {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          // A page of 100 records is ~30 KB: an answer this large is not one, and reading it whole could exhaust
          // memory.
          if (size > MAX_ANSWER_BYTES)
            req.destroy(
              new UpstreamUnavailable(`Tencent's answer passed ${MAX_ANSWER_BYTES} bytes`, { code: 'InvalidResponse' }),
            );
          else chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (error) => fail(error));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(
        new UpstreamUnavailable(`Tencent did not answer within ${timeoutMs} ms`, {
          code: 'RequestTimeout',
          statusCode: 504,
        }),
      );
    }, timeoutMs);
    function fail(error: unknown): void {
      clearTimeout(timer);
      reject(networkError(error));
    }
    req.on('error', fail);
    req.end(body);
  });
}

function networkError(error: unknown): SmsStatusError {
  if (error instanceof SmsStatusError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'NetworkError';
  const statusCode = code === 'ETIMEDOUT' ? 504 : 503;
  return new UpstreamUnavailable(`cannot reach Tencent (${code})`, { code, statusCode, cause: error });
}

interface TencentBody {
  Response?: {
    Error?: { Code?: unknown; Message?: unknown } | null;
    RequestId?: string;
    PullSmsSendStatusSet?: PullSmsSendStatus[];
  };
}

function parse({ status, body }: RawResponse): PullPage {
  let parsed: TencentBody | undefined;
  try {
    parsed = JSON.parse(body) as TencentBody;
  } catch {
    parsed = undefined;
  }
  const response = parsed?.Response;
  const requestId = typeof response?.RequestId === 'string' ? response.RequestId : undefined;
  if (response?.Error !== undefined) {
    const { Code: code, Message: message } = response.Error ?? {};
    if (typeof code !== 'string' || code === '') throw invalidAnswer('an error without a code', requestId);
    throw fromTencentError(code, typeof message === 'string' ? message : '', requestId);
  }
  if (status !== 200 || !response) throw unexpectedAnswer(status);
  const statuses = response.PullSmsSendStatusSet;
  if (!Array.isArray(statuses)) throw invalidAnswer('no PullSmsSendStatusSet', requestId);
  if (!statuses.every(isStatus)) throw invalidAnswer('a status without a SerialNo or a UserReceiveTime', requestId);
  return { statuses, requestId: requestId ?? '' };
}

function isStatus(value: unknown): value is PullSmsSendStatus {
  const status = value as PullSmsSendStatus | null;
  return (
    typeof status === 'object' &&
    status !== null &&
    typeof status.SerialNo === 'string' &&
    Number.isInteger(status.UserReceiveTime)
  );
}

function invalidAnswer(what: string, requestId: string | undefined): SmsStatusError {
  return new UpstreamUnavailable(`Tencent answered with ${what}`, { code: 'InvalidResponse', requestId });
}

function unexpectedAnswer(status: number): SmsStatusError {
  const code = status === 200 ? 'InvalidResponse' : `HTTP${status}`;
  if (status === 429) return fromTencentError('RequestLimitExceeded', 'HTTP 429 from Tencent');
  // 408: a proxy in between gave up waiting; like a timeout, asking again may succeed.
  if (status === 200 || status === 408 || status >= 500) {
    return new UpstreamUnavailable(`Tencent answered HTTP ${status} without a usable body`, {
      code,
      statusCode: status === 504 ? 504 : 503,
    });
  }
  return new UpstreamRejected(`Tencent answered HTTP ${status}`, { code });
}
