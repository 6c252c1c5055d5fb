/**
 * Environment → typed configuration, read once at the edge (handler module, CLI) and passed in.
 * A wrong value fails fast with an error naming the variable.
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

const DEFAULT_ENDPOINT = 'https://sms.tencentcloudapi.com';

function text(env: Env, name: string, pattern?: RegExp, rule?: string): string | undefined {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return undefined;
  if (pattern && !pattern.test(value)) throw new ConfigError(name, rule ?? `does not match ${pattern}`);
  return value;
}

function required(env: Env, name: string, pattern?: RegExp, rule?: string): string {
  const value = text(env, name, pattern, rule);
  if (value === undefined) throw new ConfigError(name, 'is required');
  return value;
}

export function numberVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(name, `must be a number from ${min} to ${max}, got '${value.slice(0, 32)}'`);
  }
  return parsed;
}

function endpoint(env: Env): string {
  const value = text(env, 'TENCENT_SMS_ENDPOINT') ?? DEFAULT_ENDPOINT;
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
  const secretArn = text(env, 'TENCENTCLOUD_SECRET_ARN', /^arn:aws[\w-]*:secretsmanager:/, 'must be a Secrets Manager ARN');
  const secretId = text(env, 'TENCENTCLOUD_SECRET_ID');
  const secretKey = text(env, 'TENCENTCLOUD_SECRET_KEY');
  if (secretId && secretKey) return { secretId, secretKey, token: text(env, 'TENCENTCLOUD_SESSION_TOKEN') };
  if (secretArn) return { secretArn };
  if (secretId || secretKey) {
    throw new ConfigError(secretId ? 'TENCENTCLOUD_SECRET_KEY' : 'TENCENTCLOUD_SECRET_ID', 'is required with its pair');
  }
  throw new ConfigError('TENCENTCLOUD_SECRET_ID', 'and TENCENTCLOUD_SECRET_KEY (or TENCENTCLOUD_SECRET_ARN) are required');
}

export function loadTencentConfig(env: Env, defaultBudget = 10): TencentConfig {
  return {
    endpoint: endpoint(env),
    region: text(env, 'TENCENTCLOUD_REGION', /^[a-z]{2,}(-[a-z]+)+(-\d+)?$/, 'must be a region such as ap-guangzhou') ?? 'ap-guangzhou',
    sdkAppId: required(env, 'SMS_SDK_APP_ID', /^\d{5,20}$/, 'must be the numeric SmsSdkAppId, e.g. 1400006666'),
    credentials: credentials(env),
    timeoutMs: numberVar(env, 'TENCENT_TIMEOUT_MS', 5000, 100, 60000),
    rpsBudget: numberVar(env, 'TENCENT_RPS_BUDGET', defaultBudget, 0.1, 20),
  };
}

export interface ExportConfig {
  bucket: string;
  prefix: string;
  /** AWS_ENDPOINT_URL_S3 is set: a local S3 server (path-style, checksums only where required). */
  localS3: boolean;
  phoneNumbers?: string[];
  manifest?: string;
  latenessSeconds: number;
  initialLookbackSeconds: number;
  concurrency: number;
  groupConcurrency: number;
  chunkSize: number;
  reserveMs: number;
  manifestMaxBytes: number;
  stuckAfterRuns: number;
  /** How far back the reconciliation sweep re-pulls, for receipts carriers report late. */
  reconcileSeconds: number;
}

export function loadExportConfig(env: Env): ExportConfig {
  const prefix = text(env, 'EXPORT_PREFIX', /^[\w.!*'()-]+(\/[\w.!*'()-]+)*$/, "must be a key prefix without leading or trailing '/'") ?? 'sms-status';
  return {
    bucket: required(env, 'EXPORT_BUCKET', /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
    prefix,
    localS3: text(env, 'AWS_ENDPOINT_URL_S3') !== undefined,
    phoneNumbers: text(env, 'EXPORT_PHONE_NUMBERS')?.split(',').map((n) => n.trim()).filter(Boolean),
    manifest: text(env, 'EXPORT_MANIFEST', /^s3:\/\/[^/]+\/.+$/, 'must be an s3://bucket/key URL'),
    latenessSeconds: numberVar(env, 'EXPORT_LATENESS_SECONDS', 3600, 0, 6 * 86400),
    initialLookbackSeconds: numberVar(env, 'EXPORT_INITIAL_LOOKBACK_SECONDS', 86400, 60, 7 * 86400),
    concurrency: numberVar(env, 'EXPORT_CONCURRENCY', 48, 1, 256),
    groupConcurrency: numberVar(env, 'EXPORT_GROUP_CONCURRENCY', 32, 1, 64),
    chunkSize: numberVar(env, 'EXPORT_CHUNK_SIZE', 100, 1, 10_000),
    reserveMs: numberVar(env, 'EXPORT_RESERVE_MS', 30_000, 0, 600_000),
    manifestMaxBytes: numberVar(env, 'EXPORT_MANIFEST_MAX_BYTES', 64 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    stuckAfterRuns: numberVar(env, 'EXPORT_STUCK_AFTER_RUNS', 3, 1, 1000),
    reconcileSeconds: numberVar(env, 'EXPORT_RECONCILE_SECONDS', 72 * 3600, 3600, 7 * 86400),
  };
}
