import DEFAULTS from '../config/defaults.cjs';

/**
 * Environment → typed configuration, read once at the edge (handler module, CLI) and passed in.
 * A wrong value fails fast with an error naming the variable. Defaults and bounds are config/defaults.cjs's.
 */
export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly variable: string;
  constructor(variable: string, rule: string) {
    super(`${variable} ${rule}`);
    this.variable = variable;
  }
}

export interface TencentConfig {
  endpoint: string;
  region: string;
  sdkAppId: string;
  /** Static credentials from the environment, or the ARN of a Secrets Manager secret holding them. */
  credentials: { secretId: string; secretKey: string; token?: string } | { secretArn: string };
  timeoutMs: number;
  /** Requests/second this process may send to Tencent. */
  rpsBudget: number;
}

/** The variable trimmed, undefined when unset or blank; when set, it must match `pattern`. */
function optionalString(env: Env, name: string, pattern?: RegExp, rule?: string): string | undefined {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return undefined;
  if (pattern && !pattern.test(value)) throw new ConfigError(name, rule ?? `does not match ${pattern}`);
  return value;
}

/** As optionalString, but the variable must be set. */
function requiredString(env: Env, name: string, pattern?: RegExp, rule?: string): string {
  const value = optionalString(env, name, pattern, rule);
  if (value === undefined) throw new ConfigError(name, 'is required');
  return value;
}

/** Plain decimals only: Number() would also take 0x3e8, 0b1…, 1e3 and +100. */
const DECIMAL = /^\d+(\.\d+)?$/;

/** A number from `min` to `max` (not only whole numbers), `fallback` when unset or blank. */
export function boundedNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = optionalString(env, name);
  if (value === undefined) return fallback;
  const parsed = DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(name, `must be a number from ${min} to ${max}, got '${value.slice(0, 32)}'`);
  }
  return parsed;
}

/** A whole number from `min` to `max` (a count, a size, milliseconds, seconds), `fallback` when unset or blank. */
export function wholeNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const parsed = boundedNumber(env, name, fallback, min, max);
  if (!Number.isInteger(parsed))
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got '${String(parsed)}'`);
  return parsed;
}

type Defaults = typeof DEFAULTS;
/** The variables config/defaults.cjs gives a numeric default and bounds. */
type Bounded = {
  [K in keyof Defaults]: Defaults[K] extends { default: number; min: number; max: number } ? K : never;
}[keyof Defaults];

/** A whole number within its bounds in config/defaults.cjs, its default there when unset or blank. */
export function wholeSetting(env: Env, name: Bounded): number {
  const { default: fallback, min, max } = DEFAULTS[name];
  return wholeNumber(env, name, fallback, min, max);
}

const KEY_PREFIX = /^[\w.!*'()-]+(\/[\w.!*'()-]+)*$/;

/** EXPORT_PREFIX: where in the bucket the lake and its inbox are. */
function lakePrefix(env: Env): string {
  const rule = "must be a key prefix without leading or trailing '/'";
  return optionalString(env, 'EXPORT_PREFIX', KEY_PREFIX, rule) ?? DEFAULTS.EXPORT_PREFIX.default;
}

/** AWS_ENDPOINT_URL_S3 is set (a local S3 server); the SDK reads it too, so it must be a URL. */
function localS3(env: Env): boolean {
  return (
    optionalString(env, 'AWS_ENDPOINT_URL_S3', /^https?:\/\/[^\s/?#]+(\/[^\s]*)?$/, 'must be an http(s) URL') !==
    undefined
  );
}

/** An S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens. */
const S3_BUCKET_NAME = '[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]';
const S3_BUCKET = new RegExp(`^${S3_BUCKET_NAME}$`);
const S3_URL = new RegExp(`^s3://(${S3_BUCKET_NAME})/(.{1,1024})$`);
const S3_URL_RULE = 'must be an s3://bucket/key URL';

/**
 * The one reading of an s3://bucket/key URL (EXPORT_MANIFEST, a manifest named in an export event).
 * Throws a TypeError naming `field` when `url` is not one.
 */
export function parseS3Url(url: unknown, field = 'manifest'): { bucket: string; key: string } {
  const match = typeof url === 'string' ? S3_URL.exec(url) : null;
  if (!match) throw new TypeError(`${field} ${S3_URL_RULE}`);
  return { bucket: match[1] as string, key: match[2] as string };
}

function endpoint(env: Env): string {
  const value = optionalString(env, 'TENCENT_SMS_ENDPOINT') ?? DEFAULTS.TENCENT_SMS_ENDPOINT.default;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('TENCENT_SMS_ENDPOINT', 'must be an http(s) URL such as https://sms.tencentcloudapi.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('TENCENT_SMS_ENDPOINT', 'must start with https:// or http://');
  }
  return url.origin;
}

function credentials(env: Env): TencentConfig['credentials'] {
  const secretArn = optionalString(
    env,
    'TENCENTCLOUD_SECRET_ARN',
    /^arn:aws[\w-]*:secretsmanager:/,
    'must be a Secrets Manager ARN',
  );
  const secretId = optionalString(env, 'TENCENTCLOUD_SECRET_ID');
  const secretKey = optionalString(env, 'TENCENTCLOUD_SECRET_KEY');
  if (secretId && secretKey) return { secretId, secretKey, token: optionalString(env, 'TENCENTCLOUD_SESSION_TOKEN') };
  if (secretArn) return { secretArn };
  if (secretId || secretKey) {
    throw new ConfigError(secretId ? 'TENCENTCLOUD_SECRET_KEY' : 'TENCENTCLOUD_SECRET_ID', 'is required with its pair');
  }
  throw new ConfigError(
    'TENCENTCLOUD_SECRET_ID',
    'and TENCENTCLOUD_SECRET_KEY (or TENCENTCLOUD_SECRET_ARN) are required',
  );
}

const REGION = /^[a-z]{2,}(-[a-z]+)+(-\d+)?$/;
const REGION_RULE = 'must be a region such as ap-guangzhou';
const BUDGET = DEFAULTS.TENCENT_RPS_BUDGET;

export function loadTencentConfig(env: Env, defaultBudget: number = BUDGET.default): TencentConfig {
  return {
    endpoint: endpoint(env),
    region: optionalString(env, 'TENCENTCLOUD_REGION', REGION, REGION_RULE) ?? DEFAULTS.TENCENTCLOUD_REGION.default,
    sdkAppId: requiredString(env, 'SMS_SDK_APP_ID', /^\d{5,20}$/, 'must be the numeric SmsSdkAppId, e.g. 1400006666'),
    credentials: credentials(env),
    timeoutMs: wholeSetting(env, 'TENCENT_TIMEOUT_MS'),
    rpsBudget: boundedNumber(env, 'TENCENT_RPS_BUDGET', defaultBudget, BUDGET.min, BUDGET.max),
  };
}

export interface ExportConfig {
  bucket: string;
  prefix: string;
  /** AWS_ENDPOINT_URL_S3 is set: a local S3 server (path-style, checksums only where required). */
  localS3: boolean;
  /** The numbers of scheduled runs: a list, a manifest (s3://bucket/key), or both. */
  phoneNumbers?: string[];
  manifest?: string;
  /** Receipts arrive late: each scheduled run re-reads this much before the checkpoint. */
  latenessSeconds: number;
  /** How far the very first scheduled run looks back. */
  initialLookbackSeconds: number;
  /** Numbers pulled at once; the pacer still decides when each request goes. */
  concurrency: number;
  /** Groups exported side by side, so pulls go on while a chunk is being written. */
  groupConcurrency: number;
  /** Numbers of a group pulled before their records are written and the progress saved. */
  chunkSize: number;
  /** Stop cleanly when less than this much time is left. */
  reserveMs: number;
  manifestMaxBytes: number;
  /** A window still owed after this many runs is reported as stuck (it is still retried). */
  stuckAfterRuns: number;
  /** How far back the reconciliation sweep re-pulls, for receipts carriers report late. */
  reconcileSeconds: number;
}

export function loadExportConfig(env: Env): ExportConfig {
  const prefix = lakePrefix(env);
  return {
    bucket: requiredString(env, 'EXPORT_BUCKET', S3_BUCKET, 'must be an S3 bucket name'),
    prefix,
    localS3: localS3(env),
    phoneNumbers: optionalString(env, 'EXPORT_PHONE_NUMBERS')
      ?.split(',')
      .map((n) => n.trim())
      .filter(Boolean),
    manifest: optionalString(env, 'EXPORT_MANIFEST', S3_URL, S3_URL_RULE),
    latenessSeconds: wholeSetting(env, 'EXPORT_LATENESS_SECONDS'),
    initialLookbackSeconds: wholeSetting(env, 'EXPORT_INITIAL_LOOKBACK_SECONDS'),
    concurrency: wholeSetting(env, 'EXPORT_CONCURRENCY'),
    groupConcurrency: wholeSetting(env, 'EXPORT_GROUP_CONCURRENCY'),
    chunkSize: wholeSetting(env, 'EXPORT_CHUNK_SIZE'),
    reserveMs: wholeSetting(env, 'EXPORT_RESERVE_MS'),
    manifestMaxBytes: wholeSetting(env, 'EXPORT_MANIFEST_MAX_BYTES'),
    stuckAfterRuns: wholeSetting(env, 'EXPORT_STUCK_AFTER_RUNS'),
    reconcileSeconds: wholeSetting(env, 'EXPORT_RECONCILE_SECONDS'),
  };
}

/** What a lookup needs to read the lake: absent when EXPORT_BUCKET is unset (lookups then reach 7 days). */
export interface LakeReadConfig {
  bucket: string;
  prefix: string;
  /** How far back lookups may reach (the lake's retention). */
  retentionDays: number;
  /** AWS_ENDPOINT_URL_S3 is set: a local S3 server (path-style, checksums only where required). */
  localS3: boolean;
}

export function loadLakeReadConfig(env: Env): LakeReadConfig | undefined {
  const bucket = optionalString(env, 'EXPORT_BUCKET', S3_BUCKET, 'must be an S3 bucket name');
  if (bucket === undefined) return undefined;
  return {
    bucket,
    prefix: lakePrefix(env),
    retentionDays: wholeSetting(env, 'EXPORT_RETENTION_DAYS'),
    localS3: localS3(env),
  };
}

/** How much one lookup answer holds before it pages with nextToken (LOOKUP_MAX_RECORDS). */
export function loadLookupMaxRecords(env: Env): number {
  return wholeSetting(env, 'LOOKUP_MAX_RECORDS');
}

/** The callback's path token: long enough that guessing it is hopeless (the URL is its only secret). */
export const MIN_CALLBACK_TOKEN_LENGTH = 32;
const CALLBACK_TOKEN = /^[A-Za-z0-9._~-]{32,256}$/;

export interface CallbackConfig {
  bucket: string;
  prefix: string;
  localS3: boolean;
  sdkAppId: string;
  /** The token itself (SMS_STATUS_CALLBACK_TOKEN), or the Secrets Manager secret holding it. */
  token: { token: string } | { secretArn: string };
  /** TENCENT_CALLBACK_UTC_OFFSET in minutes east of UTC (+08:00 → 480). */
  utcOffsetMinutes: number;
}

/** ±HH:MM (at most ±14:00) → minutes east of UTC. */
function utcOffset(env: Env, name: 'TENCENT_CALLBACK_UTC_OFFSET'): number {
  const text = optionalString(env, name) ?? DEFAULTS[name].default;
  const match = /^([+-])(\d{2}):([0-5]\d)$/.exec(text);
  const minutes = match ? Number(match[2]) * 60 + Number(match[3]) : Number.NaN;
  if (!match || minutes > 14 * 60)
    throw new ConfigError(name, `must be a UTC offset ±HH:MM such as +08:00, got '${text.slice(0, 16)}'`);
  return match[1] === '-' ? -minutes : minutes;
}

function callbackToken(env: Env): CallbackConfig['token'] {
  // Never echo the value: the error names the variable and the rule only.
  const token = optionalString(
    env,
    'SMS_STATUS_CALLBACK_TOKEN',
    CALLBACK_TOKEN,
    `must be ${MIN_CALLBACK_TOKEN_LENGTH} to 256 URL-safe characters (A-Z a-z 0-9 . _ ~ -)`,
  );
  if (token) return { token };
  const secretArn = optionalString(
    env,
    'SMS_STATUS_CALLBACK_TOKEN_ARN',
    /^arn:aws[\w-]*:secretsmanager:/,
    'must be a Secrets Manager ARN',
  );
  if (secretArn) return { secretArn };
  throw new ConfigError('SMS_STATUS_CALLBACK_TOKEN', '(or SMS_STATUS_CALLBACK_TOKEN_ARN) is required');
}

/** The callback receiver's configuration: its token, Tencent's time zone, the app and the lake's place. */
export function loadCallbackConfig(env: Env): CallbackConfig {
  return {
    bucket: requiredString(env, 'EXPORT_BUCKET', S3_BUCKET, 'must be an S3 bucket name'),
    prefix: lakePrefix(env),
    localS3: localS3(env),
    sdkAppId: requiredString(env, 'SMS_SDK_APP_ID', /^\d{5,20}$/, 'must be the numeric SmsSdkAppId, e.g. 1400006666'),
    token: callbackToken(env),
    utcOffsetMinutes: utcOffset(env, 'TENCENT_CALLBACK_UTC_OFFSET'),
  };
}

/** How much one inbox drain takes (lib/push/inbox.ts, InboxSettings) when no variable says otherwise. */
export const INBOX_DEFAULTS = {
  maxObjects: DEFAULTS.INBOX_MAX_OBJECTS.default,
  maxRecords: DEFAULTS.INBOX_MAX_RECORDS.default,
  reserveMs: DEFAULTS.INBOX_RESERVE_MS.default,
  // Inbox objects read (and deleted) at once, and day objects merged at once: no variable sets these.
  readConcurrency: 32,
  mergeConcurrency: 8,
} as const;

export interface InboxConfig {
  bucket: string;
  prefix: string;
  localS3: boolean;
  maxObjects: number;
  maxRecords: number;
  reserveMs: number;
}

/** The inbox drain's configuration: the lake's place and how much one drain takes. */
export function loadInboxConfig(env: Env): InboxConfig {
  return {
    bucket: requiredString(env, 'EXPORT_BUCKET', S3_BUCKET, 'must be an S3 bucket name'),
    prefix: lakePrefix(env),
    localS3: localS3(env),
    maxObjects: wholeSetting(env, 'INBOX_MAX_OBJECTS'),
    maxRecords: wholeSetting(env, 'INBOX_MAX_RECORDS'),
    reserveMs: wholeSetting(env, 'INBOX_RESERVE_MS'),
  };
}

/** Where `sms-status report` reads the lake: the export's bucket and prefix. */
export interface ReportConfig {
  bucket: string;
  prefix: string;
  localS3: boolean;
}

export function loadReportConfig(env: Env): ReportConfig {
  return {
    bucket: requiredString(env, 'EXPORT_BUCKET', S3_BUCKET, 'must be an S3 bucket name'),
    prefix: lakePrefix(env),
    localS3: localS3(env),
  };
}

/** Where delivery events go (docs/events.md): undefined when EVENTS_ENABLED=false or no EVENT_BUS_NAME is set. */
export interface EventsConfig {
  busName: string;
}

/** An event bus's name or ARN, as PutEvents takes it. */
const EVENT_BUS = /^([\w.\-/]{1,256}|arn:aws[\w-]*:events:[\w-]+:\d{12}:event-bus\/[\w.\-/]{1,256})$/;

export function loadEventsConfig(env: Env): EventsConfig | undefined {
  const enabled =
    optionalString(env, 'EVENTS_ENABLED', /^(true|false)$/, "must be 'true' or 'false'") ??
    String(DEFAULTS.EVENTS_ENABLED.default);
  const busName = optionalString(env, 'EVENT_BUS_NAME', EVENT_BUS, "must be an event bus's name or ARN");
  return enabled === 'true' && busName !== undefined ? { busName } : undefined;
}

/**
 * The country calling codes that get a `Receipts` dimension of their own (METRIC_COUNTRY_CODES); the rest count as
 * `other`.
 */
export function loadMetricCountryCodes(env: Env): Set<string> {
  const text = optionalString(
    env,
    'METRIC_COUNTRY_CODES',
    /^\d{1,4}(,\d{1,4})*$/,
    'must be country calling codes separated by commas, e.g. 86,852,1',
  );
  return new Set((text ?? DEFAULTS.METRIC_COUNTRY_CODES.default).split(','));
}
