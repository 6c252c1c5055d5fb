/** A report's failures as the one line the CLI prints: which object, bucket, endpoint or variable. */
import { describe, expect, it } from 'vitest';
import { CorruptObject } from '#lib/lake/corrupt.ts';
import { reportFailure } from '../../../cli/report/lake-errors.ts';

const LOCAL = { bucket: 'exports', prefix: 'sms', endpoint: 'http://127.0.0.1:4569' };
const AWS = { bucket: 'exports', prefix: 'sms' };
const s3Error = (name: string, status?: number, message = 'x') =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('reportFailure', () => {
  it.each([
    [
      s3Error('NoSuchBucket', 404),
      LOCAL,
      "bucket 'exports' does not exist at http://127.0.0.1:4569 (AWS_ENDPOINT_URL_S3): set EXPORT_BUCKET",
    ],
    [
      s3Error('AccessDenied', 403),
      AWS,
      'access denied reading s3://exports/sms/statuses/: the AWS credentials need s3:ListBucket and s3:GetObject there (EXPORT_BUCKET, EXPORT_PREFIX)',
    ],
    [s3Error('Forbidden', 403), AWS, 'access denied reading s3://exports/sms/statuses/'],
    [
      s3Error('InvalidAccessKeyId', 403),
      AWS,
      'S3 refused the AWS credentials (InvalidAccessKeyId) reading s3://exports/sms/statuses/: check AWS_PROFILE',
    ],
    [s3Error('SignatureDoesNotMatch', 400), AWS, 'S3 refused the AWS credentials (SignatureDoesNotMatch)'],
    [
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      AWS,
      'no AWS credentials to read s3://exports/sms/statuses/: set AWS_PROFILE',
    ],
    [new Error('Region is missing'), AWS, 'no AWS region to read s3://exports/sms/statuses/: set AWS_REGION'],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4569'), { code: 'ECONNREFUSED' }),
      LOCAL,
      'cannot reach S3 at http://127.0.0.1:4569 (AWS_ENDPOINT_URL_S3) to read s3://exports/sms/statuses/: ECONNREFUSED',
    ],
    [
      Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }),
      AWS,
      'cannot reach S3 to read s3://exports/sms/statuses/: ENOTFOUND (network, or AWS_REGION)',
    ],
    [
      s3Error('SlowDown', 503, 'Please reduce your request rate.'),
      AWS,
      'S3 answered SlowDown reading s3://exports/sms/statuses/: Please reduce your request rate.',
    ],
    [
      new CorruptObject(
        's3://exports/sms/statuses/dt=2026-11-01/part-03.jsonl.gz',
        new Error('unexpected end of file'),
      ),
      AWS,
      'lake object s3://exports/sms/statuses/dt=2026-11-01/part-03.jsonl.gz is corrupt: unexpected end of file — no report made',
    ],
    [new Error('IO Error: No space left on device\nmore'), AWS, 'report failed: IO Error: No space left on device'],
  ])('%s → one line', (error, place, line) => {
    const failure = reportFailure(error, place);
    expect(failure.name).toBe('CliError');
    expect(failure.message).toContain(line);
    expect(failure.message).not.toContain('\n');
  });
});
