import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACTION, VERSION, type PullSmsSendStatus } from '#lib/tencent/types.ts';
import { fnv1a } from '#lib/export/plan.ts';
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

/**
 * Late carrier reports: a share of receipts reaches the API only some time after its UserReceiveTime
 * (carriers report up to 72 h late). Which receipts, and each one's delay, follow from the SerialNo and
 * the twin's `seed` alone, so the same receipts are late on every start with the same clock and seed;
 * raising `share` keeps the receipts already late and adds more.
 */
export interface LateReports {
  /** Share of receipts, 0–1, reported late. */
  share: number;
  /** Seconds after UserReceiveTime when a late receipt becomes visible: fixed, or uniform in [min, max] per receipt. */
  delaySeconds: number | [number, number];
}

/**
 * The order of the records the API answers, by UserReceiveTime (ties by SerialNo). Real Tencent's is
 * undocumented and it returns at most `Limit` records, so a client must cope with each: the oldest
 * `Limit`, the newest `Limit`, or any `Limit` of them.
 */
export type TwinOrder = 'shuffled' | 'ascending' | 'descending';
export const TWIN_ORDERS: readonly TwinOrder[] = ['shuffled', 'ascending', 'descending'];

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
  /** Hold a deterministic share of receipts back (late reports); off by default. */
  lateReports?: LateReports;
  /**
   * Explicit holds for precise tests: SerialNo → unix seconds from which the API returns that receipt.
   * An entry overrides `lateReports` for its receipt (a time at or before UserReceiveTime releases one
   * that `lateReports` would hold). SerialNos are known from `truth()`, so a test usually sets this
   * through `configure({ hold })`, which replaces the whole map.
   */
  hold?: Record<string, number>;
  /** The order of the API's answers, and so which records a full page holds; 'shuffled' by default. */
  order?: TwinOrder;
}

/**
 * What `configure` and POST /_twin/configure change; `lateReports`/`hold` undefined (null over HTTP) turn
 * them off, an undefined `order` keeps the current one.
 */
export type TwinPatch = Pick<TwinOptions, 'latencyMs' | 'faults' | 'rateLimit' | 'lateReports' | 'hold' | 'order'>;

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
  /** Moves the twin's clock by this many seconds (negative goes back); receipts stay where they are. */
  advance(seconds: number): void;
  /** Ground truth: every receipt of a number inside [beginTime, endTime], sorted by receive time, held or not. */
  truth(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
  /** What the API would answer now: `truth` without the receipts still held back (late reports, `hold`). */
  visible(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
  /** Unix seconds from which the API returns this receipt: its UserReceiveTime unless held back. */
  visibleAt(receipt: PullSmsSendStatus): number;
  stats(): TwinStats;
  resetStats(): void;
  /** Changes the knobs; throws a TypeError naming the field when a value is unusable. */
  configure(patch: TwinPatch): void;
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
  for (const key of ['lateReports', 'hold', 'order'] as const) {
    const problem = options[key] === undefined ? undefined : PATCH_CHECKS[key](options[key], key);
    if (problem) throw new TypeError(`twin option ${problem}`);
  }
  let offset = options.clock === undefined ? 0 : options.clock - Date.now();
  const now = (): number => Date.now() + offset;
  // Receipts are laid out relative to this hour, so the ground truth is stable for the twin's life.
  const anchor = Math.floor(now() / 1000 / 3600) * 3600;
  const numbers = { ...DEMO_NUMBERS, ...options.numbers };
  const store = new Map<string, PullSmsSendStatus[]>();
  const seed = options.seed ?? 20210111;
  const random = prng(seed);
  let settings: TwinPatch & { faults: FaultOptions; rateLimit: number; order: TwinOrder } = {
    latencyMs: options.latencyMs,
    faults: options.faults ?? {},
    rateLimit: options.rateLimit ?? 20,
    lateReports: options.lateReports,
    hold: options.hold,
    order: options.order ?? 'shuffled',
  };
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

  function visibleAt(receipt: PullSmsSendStatus): number {
    const received = receipt.UserReceiveTime as number;
    const serialNo = receipt.SerialNo as string;
    const held = settings.hold && Object.hasOwn(settings.hold, serialNo) ? settings.hold[serialNo] : undefined;
    if (held !== undefined) return Math.max(received, held);
    const late = settings.lateReports;
    if (!late || late.share <= 0) return received;
    // Its own stream per receipt: the first draw decides whether it is late, the second its delay.
    const draw = prng(fnv1a(`${seed}:late:${serialNo}`));
    if (draw() >= late.share) return received;
    const [min, max] = typeof late.delaySeconds === 'number' ? [late.delaySeconds, late.delaySeconds] : late.delaySeconds;
    return received + Math.round(min + draw() * (max - min));
  }

  function visible(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[] {
    const nowSeconds = now() / 1000;
    return truth(phoneNumber, beginTime, endTime).filter((s) => visibleAt(s) <= nowSeconds);
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
    const matching = visible(params.PhoneNumber, params.BeginTime, params.EndTime ?? Math.floor(now() / 1000));
    answer(res, { PullSmsSendStatusSet: ordered(matching).slice(0, params.Limit) });
  }

  /** The matching receipts in the configured order: the page is the first `Limit` of them. */
  function ordered(list: PullSmsSendStatus[]): PullSmsSendStatus[] {
    if (settings.order === 'shuffled') return shuffle(list);
    const ascending = [...list].sort(byTimeThenSerial);
    return settings.order === 'ascending' ? ascending : ascending.reverse();
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
    const json = (value: unknown, status = 200): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const readBody = (usage: string): Record<string, unknown> | undefined => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        json({ error: `the body must be JSON: ${usage}` }, 400);
        return undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        json({ error: `the body must be a JSON object: ${usage}` }, 400);
        return undefined;
      }
      return parsed as Record<string, unknown>;
    };
    switch (url.pathname) {
      case '/_twin/stats':
        return json(stats);
      case '/_twin/settings':
        return json(settings);
      case '/_twin/reset':
        stats = emptyStats();
        return json(stats);
      case '/_twin/truth':
      case '/_twin/visible': {
        const q = url.searchParams;
        const query = truthQuery(q.get('phoneNumber'), q.get('beginTime'), q.get('endTime'), now());
        if (typeof query === 'string') return json({ error: query }, 400);
        return json((url.pathname === '/_twin/truth' ? truth : visible)(...query));
      }
      case '/_twin/configure': {
        const patch = readBody(`{${PATCH_FIELDS.map((f) => `"${f}"?`).join(', ')}}`);
        if (!patch) return;
        const problem = patchProblem(patch);
        if (problem) return json({ error: problem }, 400);
        // JSON has no undefined: null turns lateReports or hold off.
        for (const key of ['lateReports', 'hold'] as const) if (patch[key] === null) patch[key] = undefined;
        twin.configure(patch as TwinPatch);
        return json(settings);
      }
      case '/_twin/advance': {
        const request = readBody('{"seconds": number}');
        if (!request) return;
        const { seconds } = request;
        if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
          return json({ error: 'seconds must be a finite number of seconds to move the clock by' }, 400);
        }
        twin.advance(seconds);
        return json({ now: now() });
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
    advance(seconds) {
      if (!Number.isFinite(seconds)) throw new TypeError('advance(seconds) needs a finite number');
      offset += seconds * 1000;
    },
    truth,
    visible,
    visibleAt,
    stats: () => structuredClone(stats),
    resetStats: () => {
      stats = emptyStats();
    },
    configure(patch) {
      const problem = patchProblem(patch);
      if (problem) throw new TypeError(`twin configure: ${problem}`);
      // An order left undefined keeps the current one (there is no "off" for it).
      settings = { ...settings, ...patch, order: patch.order ?? settings.order };
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

/** Ties broken by SerialNo, so a sorted page cut inside one second is the same on every request. */
function byTimeThenSerial(a: PullSmsSendStatus, b: PullSmsSendStatus): number {
  const [x, y] = [a.SerialNo as string, b.SerialNo as string];
  return (a.UserReceiveTime as number) - (b.UserReceiveTime as number) || (x < y ? -1 : x > y ? 1 : 0);
}

/** phoneNumber, beginTime and endTime (unix seconds, default now) of /_twin/truth and /_twin/visible, or what is wrong. */
function truthQuery(
  phoneNumber: string | null,
  beginTime: string | null,
  endTime: string | null,
  nowMs: number,
): [string, number, number] | string {
  const begin = Number(beginTime ?? 0);
  const end = endTime === null ? nowMs / 1000 : Number(endTime);
  if (!Number.isFinite(begin)) return 'beginTime must be unix seconds';
  if (!Number.isFinite(end)) return 'endTime must be unix seconds';
  return [phoneNumber ?? '', begin, end];
}

const FAULT_KINDS: readonly string[] = ['timeout', 'http5xx', 'reset', 'internalTimeout'];
const MAX_DELAY_SECONDS = 7 * 24 * 3600;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function unknownField(value: Record<string, unknown>, known: readonly string[], field: string): string | undefined {
  const extra = Object.keys(value).find((key) => !known.includes(key));
  return extra === undefined ? undefined : `${field}.${extra} is not a known field (${known.join(', ')})`;
}

/** A fixed value in [min, max], or a [low, high] pair within it; what is wrong, or undefined. */
function rangeProblem(value: unknown, field: string, min: number, max: number, unit: string): string | undefined {
  if (isNumberIn(value, min, max)) return undefined;
  if (Array.isArray(value) && value.length === 2 && value.every((v) => isNumberIn(v, min, max))) {
    return (value[0] as number) <= (value[1] as number) ? undefined : `${field} [min, max] needs min <= max`;
  }
  return `${field} must be ${unit} from ${min} to ${max}, or a [min, max] pair of them`;
}

/** Checks of every field `configure` takes; each answers what is wrong, naming the field, or undefined. */
const PATCH_CHECKS: Record<keyof TwinPatch, (value: unknown, field: string) => string | undefined> = {
  latencyMs: (value, field) => rangeProblem(value, field, 0, 600_000, 'milliseconds'),
  rateLimit: (value, field) => (isNumberIn(value, 0, 1e9) && value > 0 ? undefined : `${field} must be a number of requests above 0`),
  faults(value, field) {
    if (!isObject(value)) return `${field} must be an object {rate?, kinds?, hangMs?, script?}`;
    const extra = unknownField(value, ['rate', 'kinds', 'hangMs', 'script'], field);
    if (extra) return extra;
    if (value.rate !== undefined && !isNumberIn(value.rate, 0, 1)) return `${field}.rate must be a number from 0 to 1`;
    if (value.hangMs !== undefined && !isNumberIn(value.hangMs, 0, 600_000)) return `${field}.hangMs must be milliseconds from 0 to 600000`;
    if (value.kinds !== undefined && !(Array.isArray(value.kinds) && value.kinds.length > 0 && value.kinds.every((k) => FAULT_KINDS.includes(k)))) {
      return `${field}.kinds must be a non-empty list of ${FAULT_KINDS.join(', ')}`;
    }
    if (value.script !== undefined) {
      if (!Array.isArray(value.script)) return `${field}.script must be a list of faults`;
      const bad = value.script.findIndex((f) => !(FAULT_KINDS.includes(f) || (isObject(f) && typeof f.code === 'string' && f.code !== '')));
      if (bad >= 0) return `${field}.script[${bad}] must be one of ${FAULT_KINDS.join(', ')} or {"code": "<Tencent error code>"}`;
    }
    return undefined;
  },
  lateReports(value, field) {
    if (!isObject(value)) return `${field} must be an object {"share": 0–1, "delaySeconds": seconds or [min, max]}`;
    const extra = unknownField(value, ['share', 'delaySeconds'], field);
    if (extra) return extra;
    if (!isNumberIn(value.share, 0, 1)) return `${field}.share must be a number from 0 to 1`;
    return rangeProblem(value.delaySeconds, `${field}.delaySeconds`, 0, MAX_DELAY_SECONDS, 'seconds');
  },
  hold(value, field) {
    if (!isObject(value)) return `${field} must be an object {"<SerialNo>": <unix seconds when visible>}`;
    const bad = Object.entries(value).find(([, at]) => !isNumberIn(at, 0, Number.MAX_SAFE_INTEGER));
    return bad ? `${field}[${JSON.stringify(bad[0])}] must be unix seconds (a number from 0)` : undefined;
  },
  order: (value, field) => (TWIN_ORDERS.includes(value as TwinOrder) ? undefined : `${field} must be one of ${TWIN_ORDERS.join(', ')}`),
};
const PATCH_FIELDS = Object.keys(PATCH_CHECKS) as (keyof TwinPatch)[];

/** What is wrong with a configure patch, naming the field, or undefined; undefined (null) values turn a knob off. */
function patchProblem(patch: unknown): string | undefined {
  if (!isObject(patch)) return 'the patch must be an object';
  const extra = Object.keys(patch).find((key) => !(PATCH_FIELDS as string[]).includes(key));
  if (extra) return `${extra} is not a field configure knows (${PATCH_FIELDS.join(', ')})`;
  for (const field of PATCH_FIELDS) {
    const value = patch[field];
    if (value === undefined || (value === null && (field === 'lateReports' || field === 'hold'))) continue;
    const problem = PATCH_CHECKS[field](value, field);
    if (problem) return problem;
  }
  return undefined;
}
