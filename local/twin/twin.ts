import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACTION, VERSION, type PullSmsSendStatus } from '#lib/tencent/types.ts';
import { DEMO_NUMBERS, defaultProfile, generate, prng, type NumberProfile } from './data.ts';
import { checkParams, isError, type TwinError } from './rules.ts';
import { verify, type TwinCredentials } from './verify.ts';

export type FaultKind = 'timeout' | 'http5xx' | 'reset' | 'internalTimeout';
/** A scripted answer for the next request: a fault, or a Tencent error code. */
export type ScriptedFault = FaultKind | { code: string };

export interface FaultOptions {
  /** Share of requests (0–1) that get a random fault of `kinds`. */
  rate?: number;
  kinds?: FaultKind[];
  /** How long a `timeout` fault holds the connection before dropping it. */
  hangMs?: number;
  /** Answers for the next requests, in order, before any random fault. */
  script?: ScriptedFault[];
}

export interface TwinOptions {
  port?: number;
  host?: string;
  credentials?: TwinCredentials;
  sdkAppId?: string;
  /** Start the twin's clock at this time (ms since epoch); it then runs at real speed. */
  clock?: number;
  /** Added latency per answer: fixed, or uniform in [min, max]. */
  latencyMs?: number | [number, number];
  faults?: FaultOptions;
  /** Requests per sliding second before RequestLimitExceeded. */
  rateLimit?: number;
  /** Receipts for numbers with no profile; by default 0–12 chosen from the number. */
  perNumber?: number;
  numbers?: Record<string, NumberProfile>;
  seed?: number;
}

export interface TwinStats {
  received: number;
  accepted: number;
  throttled: number;
  faults: number;
  ok: number;
  byCode: Record<string, number>;
  /** Most accepted requests seen in any sliding second. */
  maxPerSecond: number;
  firstAcceptedAt?: number;
  lastAcceptedAt?: number;
}

export interface Twin {
  url: string;
  port: number;
  credentials: TwinCredentials;
  sdkAppId: string;
  /** The twin's clock, ms since epoch. */
  now(): number;
  /** Ground truth: every receipt of a number inside [beginTime, endTime], sorted by receive time. */
  truth(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
  stats(): TwinStats;
  resetStats(): void;
  configure(patch: Pick<TwinOptions, 'latencyMs' | 'faults' | 'rateLimit'>): void;
  close(): Promise<void>;
}

export const DEMO_CREDENTIALS: TwinCredentials = {
  secretId: 'AKIDtwinDEMO00000000000000000000',
  secretKey: 'twinDEMOsecretKEY000000000000000',
};
export const DEMO_SDK_APP_ID = '1400000000';

const MAX_BODY_BYTES = 64 * 1024;

function emptyStats(): TwinStats {
  return { received: 0, accepted: 0, throttled: 0, faults: 0, ok: 0, byCode: {}, maxPerSecond: 0 };
}

export async function startTwin(options: TwinOptions = {}): Promise<Twin> {
  const credentials = options.credentials ?? DEMO_CREDENTIALS;
  const sdkAppId = options.sdkAppId ?? DEMO_SDK_APP_ID;
  const offset = options.clock === undefined ? 0 : options.clock - Date.now();
  const now = (): number => Date.now() + offset;
  // Receipts are laid out relative to this hour, so the ground truth is stable for the twin's life.
  const anchor = Math.floor(now() / 1000 / 3600) * 3600;
  const numbers = { ...DEMO_NUMBERS, ...options.numbers };
  const store = new Map<string, PullSmsSendStatus[]>();
  const random = prng(options.seed ?? 20210111);
  let settings = { latencyMs: options.latencyMs, faults: options.faults ?? {}, rateLimit: options.rateLimit ?? 20 };
  let script = [...(settings.faults.script ?? [])];
  let stats = emptyStats();
  const window: number[] = [];

  function profile(phoneNumber: string): NumberProfile {
    return numbers[phoneNumber] ?? defaultProfile(phoneNumber, options.perNumber);
  }

  function statuses(phoneNumber: string): PullSmsSendStatus[] {
    let list = store.get(phoneNumber);
    if (!list) {
      list = generate(phoneNumber, profile(phoneNumber), anchor);
      store.set(phoneNumber, list);
    }
    return list;
  }

  function truth(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[] {
    return statuses(phoneNumber)
      .filter((s) => (s.UserReceiveTime as number) >= beginTime && (s.UserReceiveTime as number) <= endTime)
      .sort((a, b) => (a.UserReceiveTime as number) - (b.UserReceiveTime as number));
  }

  /** Sliding one-second window of accepted requests, as Tencent's 20 requests/second limit. */
  function admit(): boolean {
    const t = performance.now();
    while (window.length > 0 && (window[0] as number) <= t - 1000) window.shift();
    if (window.length >= settings.rateLimit) return false;
    window.push(t);
    stats.maxPerSecond = Math.max(stats.maxPerSecond, window.length);
    stats.firstAcceptedAt ??= t;
    stats.lastAcceptedAt = t;
    return true;
  }

  function nextFault(): ScriptedFault | undefined {
    if (script.length > 0) return script.shift();
    const { rate = 0, kinds = ['timeout', 'http5xx', 'reset', 'internalTimeout'] } = settings.faults;
    if (rate > 0 && random() < rate) return kinds[Math.floor(random() * kinds.length)];
    return undefined;
  }

  function latency(): number {
    const l = settings.latencyMs;
    if (l === undefined) return 0;
    return typeof l === 'number' ? l : l[0] + random() * (l[1] - l[0]);
  }

  function answer(res: http.ServerResponse, response: Record<string, unknown>, status = 200): void {
    const code = (response.Error as { Code?: string } | undefined)?.Code ?? 'OK';
    stats.byCode[code] = (stats.byCode[code] ?? 0) + 1;
    if (code === 'OK') stats.ok += 1;
    const body = JSON.stringify({ Response: { ...response, RequestId: randomUUID() } });
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  function fail(res: http.ServerResponse, error: TwinError): void {
    answer(res, { Error: { Code: error.code, Message: error.message } });
  }

  function injectFault(fault: ScriptedFault, req: http.IncomingMessage, res: http.ServerResponse): void {
    stats.faults += 1;
    if (typeof fault === 'object') return fail(res, { code: fault.code, message: `Injected ${fault.code}.` });
    switch (fault) {
      case 'timeout': {
        const timer = setTimeout(() => req.socket.destroy(), settings.faults.hangMs ?? 30_000);
        req.socket.once('close', () => clearTimeout(timer));
        return;
      }
      case 'http5xx':
        res.writeHead(502, { 'Content-Type': 'text/html' });
        res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'internalTimeout':
        return fail(res, { code: 'InternalError.Timeout', message: 'Injected InternalError.Timeout.' });
    }
  }

  /** The limit counts requests as they arrive; latency only delays the answer. */
  function arrive(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    stats.received += 1;
    if (!admit()) {
      stats.throttled += 1;
      return fail(res, { code: 'RequestLimitExceeded', message: 'Your current request times exceeds the limit.' });
    }
    stats.accepted += 1;
    const delay = latency();
    if (delay > 0) setTimeout(() => handleApi(req, res, body), delay);
    else handleApi(req, res, body);
  }

  function handleApi(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const fault = nextFault();
    if (fault) return injectFault(fault, req, res);
    const error = checkHeaders(req) ?? verify(req.headers, body, credentials, Math.floor(now() / 1000));
    if (error) return fail(res, error);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return fail(res, { code: 'FailedOperation.JsonParseFail', message: 'Failed to parse the request body.' });
    }
    const params = checkParams(parsed, sdkAppId, Math.floor(now() / 1000));
    if (isError(params)) return fail(res, params);
    if (profile(params.PhoneNumber).optedOut) {
      return fail(res, { code: 'FailedOperation.PhoneNumberInBlacklist', message: 'The mobile number is in the opt-out list.' });
    }
    const matching = truth(params.PhoneNumber, params.BeginTime, params.EndTime ?? Math.floor(now() / 1000));
    answer(res, { PullSmsSendStatusSet: shuffle(matching).slice(0, params.Limit) });
  }

  function shuffle<T>(list: T[]): T[] {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  function handleControl(url: URL, body: Buffer, res: http.ServerResponse): void {
    const json = (value: unknown): void => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    switch (url.pathname) {
      case '/_twin/stats':
        return json(stats);
      case '/_twin/reset':
        stats = emptyStats();
        return json(stats);
      case '/_twin/truth': {
        const q = url.searchParams;
        return json(truth(q.get('phoneNumber') ?? '', Number(q.get('beginTime') ?? 0), Number(q.get('endTime') ?? now() / 1000)));
      }
      case '/_twin/configure': {
        let patch: Parameters<Twin['configure']>[0];
        try {
          patch = JSON.parse(body.toString('utf8') || '{}');
        } catch {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ error: 'the body must be JSON: {"latencyMs"?, "faults"?, "rateLimit"?}' }));
          return;
        }
        twin.configure(patch);
        return json(settings);
      }
      default:
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'unknown twin control path' }));
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://twin');
      if (url.pathname.startsWith('/_twin/')) return handleControl(url, body, res);
      if (size > MAX_BODY_BYTES) return fail(res, { code: 'RequestSizeLimitExceeded', message: 'The request body is too large.' });
      arrive(req, res, body);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const twin: Twin = {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    credentials,
    sdkAppId,
    now,
    truth,
    stats: () => structuredClone(stats),
    resetStats: () => {
      stats = emptyStats();
    },
    configure(patch) {
      settings = { ...settings, ...patch };
      if (patch.faults) script = [...(patch.faults.script ?? [])];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return twin;
}

function checkHeaders(req: http.IncomingMessage): TwinError | undefined {
  if (req.method !== 'POST') return { code: 'UnsupportedProtocol', message: 'The twin accepts POST with a JSON body only.' };
  const action = req.headers['x-tc-action'];
  if (!action) return { code: 'MissingParameter', message: 'The request is missing X-TC-Action.' };
  if (action !== ACTION) return { code: 'InvalidAction', message: `The action \`${String(action)}\` is not supported.` };
  if (req.headers['x-tc-version'] !== VERSION) return { code: 'NoSuchVersion', message: `The version must be ${VERSION}.` };
  const region = req.headers['x-tc-region'];
  if (!region) return { code: 'MissingParameter', message: 'The request is missing X-TC-Region.' };
  if (!/^[a-z]{2,}(-[a-z]+)+(-\d+)?$/.test(String(region))) return { code: 'UnsupportedRegion', message: 'The region is not supported.' };
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    return { code: 'InvalidRequest', message: 'Content-Type must be application/json.' };
  }
  return undefined;
}
