import { ConfigError } from '#lib/config.ts';
import { isSmsStatusError, type SmsStatusError } from '#lib/errors.ts';
import DEFAULTS from '../config/defaults.cjs';
import { errorBody } from '#lib/error-body.ts';
import { CliError } from './cli-error.ts';

/** Exit codes (README.md, CLI): 1 the taxonomy's errors (and an export not complete), 2 cannot run as configured. */
export const EXIT_ERROR = 1;
export const EXIT_SETUP = 2;

export interface ErrorReport {
  /** One line for stderr. */
  line: string;
  exitCode: number;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);
const CREDENTIAL_NAMES = new Set([
  'CredentialsProviderError',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
]);

type Described = Error & { code?: unknown; BucketName?: unknown; errors?: unknown[] };

/** The error and its causes, outermost first (an AggregateError's first error counts as one). */
function chain(error: unknown): Described[] {
  const out: Described[] = [];
  for (let at = error; at instanceof Error && out.length < 8;) {
    out.push(at as Described);
    at = (at as Described).cause ?? (at as Described).errors?.[0];
  }
  return out;
}

function networkCode(error: unknown): string | undefined {
  const code = chain(error)
    .map((e) => e.code)
    .find((c) => typeof c === 'string' && NETWORK_CODES.has(c));
  return code as string | undefined;
}

function s3Endpoint(env: NodeJS.ProcessEnv): string {
  if (env.AWS_ENDPOINT_URL_S3) return `the S3 endpoint ${env.AWS_ENDPOINT_URL_S3} (AWS_ENDPOINT_URL_S3)`;
  return `S3 in ${env.AWS_REGION || env.AWS_DEFAULT_REGION || 'the default region'} (AWS_REGION)`;
}

/** A bucket named by the error, and the variable that named it. */
function bucketOf(error: Described, env: NodeJS.ProcessEnv): string {
  const bucket = typeof error.BucketName === 'string' ? error.BucketName : env.EXPORT_BUCKET;
  return bucket === env.EXPORT_BUCKET ? `bucket '${bucket}' (EXPORT_BUCKET)` : `bucket '${bucket}' (the manifest's)`;
}

/** What the AWS SDK's S3 errors mean for the person running the CLI, or undefined for other errors. */
function s3Problem(error: unknown, env: NodeJS.ProcessEnv): string | undefined {
  const errors = chain(error);
  const named = (names: Set<string>) => errors.find((e) => names.has(e.name));
  const endpoint = s3Endpoint(env);
  const noBucket = named(new Set(['NoSuchBucket']));
  if (noBucket) return `${bucketOf(noBucket, env)} does not exist at ${endpoint}`;
  const denied = named(new Set(['AccessDenied']));
  if (denied) return `access denied to ${bucketOf(denied, env)} at ${endpoint}: the credentials in use may not use it`;
  const credentials = named(CREDENTIAL_NAMES);
  if (credentials) {
    const fix = 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE';
    return `no usable AWS credentials for ${endpoint} (${credentials.name}): ${fix}`;
  }
  const code = networkCode(error);
  // The Tencent client wraps its own network errors in the taxonomy: one left bare is S3's.
  if (code) return `cannot reach ${s3Endpoint(env)}: ${code}`;
  return undefined;
}

/** A Tencent endpoint nobody answers on: the taxonomy's error, its message naming the endpoint and variable. */
function tencentReport(error: SmsStatusError, env: NodeJS.ProcessEnv): string {
  const body = errorBody(error);
  const code = error.name === 'UpstreamUnavailable' ? networkCode(error.cause) : undefined;
  const endpoint = env.TENCENT_SMS_ENDPOINT || DEFAULTS.TENCENT_SMS_ENDPOINT.default;
  if (code) body.error.message = `cannot reach Tencent at ${endpoint} (TENCENT_SMS_ENDPOINT): ${code}`;
  return JSON.stringify(body);
}

/**
 * One line a person can act on, and the exit code: the taxonomy's error body as JSON (exit 1); a flag,
 * a variable, a bucket, an endpoint or credentials wrong, named (exit 2); anything else by its name and
 * message (exit 2). The stack only with --debug.
 */
export function errorReport(error: unknown, env: NodeJS.ProcessEnv, debug = false): ErrorReport {
  const stack = debug && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  if (isSmsStatusError(error)) return { line: `${tencentReport(error, env)}${stack}`, exitCode: EXIT_ERROR };
  const parseArgs = String((error as { code?: unknown } | null)?.code ?? '').startsWith('ERR_PARSE_ARGS');
  if (error instanceof ConfigError || error instanceof CliError || parseArgs) {
    return { line: `sms-status: ${(error as Error).message}${stack}`, exitCode: EXIT_SETUP };
  }
  const problem = s3Problem(error, env);
  if (problem) return { line: `sms-status: ${problem}${stack}`, exitCode: EXIT_SETUP };
  const what = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).replace(/\s*\n\s*/g, ' ');
  return { line: `sms-status: ${what}${stack || ' (--debug prints the stack)'}`, exitCode: EXIT_SETUP };
}
