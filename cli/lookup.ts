import { loadLakeReadConfig, loadTencentConfig } from '#lib/config.ts';
import { s3Store } from '#lib/export/s3/s3-store.ts';
import { LOOKUP_RETRY } from '#lib/pace/retry.ts';
import { history } from '#lib/status/history.ts';
import { lakeDays } from '#lib/status/lake.ts';
import { parseQuery } from '#lib/status/query.ts';
import { InvalidInput } from '#lib/errors.ts';
import { connect } from '#lib/connect.ts';

export async function runLookup(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) {
    throw new InvalidInput('give exactly one phone number: sms-status lookup <phoneNumber>', { field: 'phoneNumber' });
  }
  // Past Tencent's 7 days the lake of EXPORT_BUCKET answers (AWS_ENDPOINT_URL_S3 honoured); none without it.
  const lake = loadLakeReadConfig(process.env);
  // Validate before reading credentials, so a typo never costs a request or a config error.
  const query = parseQuery(
    { phoneNumber: positionals[0], beginTime: values.begin, endTime: values.end, limit: values.limit, all: values.all, serialNo: values['serial-no'] },
    Math.floor(Date.now() / 1000),
    { lakeRetentionDays: lake?.retentionDays },
  );
  const tencent = loadTencentConfig(process.env);
  const client = connect(tencent, { retry: { ...LOOKUP_RETRY, maxAttempts: 5 } });
  const days = lake && lakeDays(s3Store({ local: lake.localS3 }), lake.bucket, lake.prefix);
  const onDayError = (day: string, error: unknown): void => void process.stderr.write(`sms-status: lake day ${day} unreadable: ${(error as Error).message}\n`);
  const result = await history(client, days && { days, sdkAppId: tencent.sdkAppId, onDayError }, query, { collect: { maxRequests: 2000, concurrency: 4 } });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
