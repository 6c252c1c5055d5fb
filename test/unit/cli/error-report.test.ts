import { describe, expect, it } from 'vitest';
import { ConfigError } from '#lib/config.ts';
import { InvalidInput, UpstreamUnavailable } from '#lib/errors.ts';
import { errorReport } from '../../../cli/error-report.ts';

const ENV = {
  EXPORT_BUCKET: 'acme-exports',
  AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
  TENCENT_SMS_ENDPOINT: 'http://127.0.0.1:9000',
};

function named(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...extra });
}

function coded(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:4569`), { code });
}

describe('errorReport', () => {
  it.each([
    [
      'a missing bucket',
      named('NoSuchBucket', 'The specified bucket does not exist', { BucketName: 'acme-exports' }),
      "bucket 'acme-exports' (EXPORT_BUCKET) does not exist at the S3 endpoint http://127.0.0.1:4569 (AWS_ENDPOINT_URL_S3)",
    ],
    [
      "a manifest's missing bucket",
      named('NoSuchBucket', 'x', { BucketName: 'lists' }),
      "bucket 'lists' (the manifest's) does not exist",
    ],
    ['access denied', named('AccessDenied', 'Access Denied'), "access denied to bucket 'acme-exports' (EXPORT_BUCKET)"],
    [
      'no credentials',
      named('CredentialsProviderError', 'Could not load credentials from any providers'),
      'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
    ],
    [
      'a wrong key',
      named('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist'),
      '(InvalidAccessKeyId)',
    ],
    [
      'an endpoint nobody listens on',
      coded('ECONNREFUSED'),
      'cannot reach the S3 endpoint http://127.0.0.1:4569 (AWS_ENDPOINT_URL_S3): ECONNREFUSED',
    ],
    [
      'an unknown host',
      coded('ENOTFOUND'),
      'cannot reach the S3 endpoint http://127.0.0.1:4569 (AWS_ENDPOINT_URL_S3): ENOTFOUND',
    ],
    [
      'localhost refusing on both addresses',
      Object.assign(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')]), { code: 'ECONNREFUSED' }),
      'ECONNREFUSED',
    ],
    [
      'a wrapped SDK error',
      new Error('read failed', { cause: named('NoSuchBucket', 'x') }),
      "bucket 'acme-exports' (EXPORT_BUCKET) does not exist",
    ],
  ])('names %s in one line, exit 2', (_, error, expected) => {
    const report = errorReport(error, ENV);
    expect(report.line).toContain(expected);
    expect(report.line.startsWith('sms-status: ')).toBe(true);
    expect(report.line).not.toContain('\n');
    expect(report.exitCode).toBe(2);
  });

  it('names real S3 by its region when no endpoint is set', () => {
    expect(errorReport(coded('ENOTFOUND'), { AWS_REGION: 'eu-west-1' }).line).toBe(
      'sms-status: cannot reach S3 in eu-west-1 (AWS_REGION): ENOTFOUND',
    );
  });

  it('gives the taxonomy’s error body as JSON, exit 1, and names an unreachable Tencent and its variable', () => {
    const invalid = errorReport(new InvalidInput('limit must be a whole number', { field: 'limit' }), ENV);
    expect(JSON.parse(invalid.line)).toEqual({
      error: { code: 'InvalidParameter', message: 'limit must be a whole number', field: 'limit' },
    });
    expect(invalid.exitCode).toBe(1);
    const down = new UpstreamUnavailable('cannot reach Tencent (ECONNREFUSED)', {
      code: 'ECONNREFUSED',
      cause: coded('ECONNREFUSED'),
    });
    const report = errorReport(down, ENV);
    expect(JSON.parse(report.line).error).toEqual({
      code: 'ECONNREFUSED',
      message: 'cannot reach Tencent at http://127.0.0.1:9000 (TENCENT_SMS_ENDPOINT): ECONNREFUSED',
    });
    expect(errorReport(down, {}).line).toContain('https://sms.tencentcloudapi.com (TENCENT_SMS_ENDPOINT)');
    expect(report.exitCode).toBe(1);
  });

  it('gives a configuration error as it is, exit 2', () => {
    expect(errorReport(new ConfigError('EXPORT_BUCKET', 'must be set for exports'), ENV)).toEqual({
      line: `sms-status: ${new ConfigError('EXPORT_BUCKET', 'must be set for exports').message}`,
      exitCode: 2,
    });
  });

  it('says what anything else is in one line, and prints the stack only with --debug', () => {
    const error = new TypeError('boom\nsecond line');
    const plain = errorReport(error, ENV);
    expect(plain.line).toBe('sms-status: TypeError: boom second line (--debug prints the stack)');
    const debug = errorReport(error, ENV, true);
    expect(debug.line).toContain('\n    at ');
    expect(errorReport(named('NoSuchBucket', 'x'), ENV, true).line).toMatch(
      /does not exist .*\n.*NoSuchBucket: x\n\s+at /s,
    );
  });
});
