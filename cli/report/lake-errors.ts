import { statusesPrefix } from '#lib/lake/layout.ts';
import { CorruptObject } from '#lib/lake/corrupt.ts';
import { CliError } from '../cli-error.ts';

/** Where the report read: named in every error, with the variables that set it. */
export interface LakePlace {
  bucket: string;
  prefix: string;
  /** AWS_ENDPOINT_URL_S3, when set. */
  endpoint?: string;
}

interface AwsError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'TimeoutError',
]);
const REFUSED_CREDENTIALS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken']);

function s3Error(error: AwsError, place: LakePlace): string | undefined {
  const where = `s3://${place.bucket}/${statusesPrefix(place.prefix)}`;
  const via = place.endpoint ? ` at ${place.endpoint} (AWS_ENDPOINT_URL_S3)` : '';
  const name = error.name ?? '';
  if (name === 'NoSuchBucket')
    return `bucket '${place.bucket}' does not exist${via}: set EXPORT_BUCKET to the export's bucket`;
  // S3 answers 403 to an unknown key id too: the credentials' own refusals first.
  if (REFUSED_CREDENTIALS.has(name))
    return `S3 refused the AWS credentials (${name}) reading ${where}${via}: check AWS_PROFILE or AWS_ACCESS_KEY_ID`;
  if (name === 'AccessDenied' || error.$metadata?.httpStatusCode === 403) {
    return `access denied reading ${where}${via}: the AWS credentials need s3:ListBucket and s3:GetObject there (EXPORT_BUCKET, EXPORT_PREFIX)`;
  }
  if (name === 'CredentialsProviderError')
    return `no AWS credentials to read ${where}: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`;
  if (/region is missing/i.test(error.message ?? '')) return `no AWS region to read ${where}: set AWS_REGION`;
  if (NETWORK.has(error.code ?? '') || NETWORK.has(name)) {
    return `cannot reach S3${via || ''} to read ${where}: ${error.code ?? name}${place.endpoint ? '' : ' (network, or AWS_REGION)'}`;
  }
  if (error.$metadata !== undefined)
    return `S3 answered ${name || 'an error'} reading ${where}${via}: ${error.message ?? ''}`;
  return undefined;
}

/**
 * Any failure of a report as one line a person can act on: which object, bucket, endpoint or variable.
 * A corrupt day object fails the whole report: a report that left a day out would look whole and be wrong.
 */
export function reportFailure(error: unknown, place: LakePlace): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof CorruptObject) {
    return new CliError(
      `${error.message} — no report made: run the export over that day again to rebuild it, or move the object aside`,
    );
  }
  const line = s3Error((error ?? {}) as AwsError, place);
  if (line !== undefined) return new CliError(line);
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new CliError(`report failed: ${message}`);
}
