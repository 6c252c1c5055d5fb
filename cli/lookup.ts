import { loadLakeReadConfig, loadLookupMaxRecords, loadTencentConfig } from '#lib/config.ts';
import { InvalidInput } from '#lib/errors.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { connect } from '#lib/connect.ts';
import { LOOKUP_RETRY } from '#lib/pace/retry.ts';
import { lakeDays } from '#lib/lake/day-reader.ts';
import { lookupPage, type LookupDeps } from '#lib/status/lookup-page.ts';
import type { LookupResult } from '#lib/status/lookup.ts';
import { MAX_BODY_BYTES } from '#lib/status/page.ts';
import { pageTokenKey } from '#lib/status/page-token.ts';
import { parseQuery, type RawQuery } from '#lib/status/query.ts';

type Values = Record<string, string | boolean | undefined>;

function depsFromEnv(): LookupDeps {
  // Past Tencent's 7 days (and while Tencent is down) the lake of EXPORT_BUCKET answers; none without it.
  const lake = loadLakeReadConfig(process.env);
  const tencent = loadTencentConfig(process.env);
  const days = lake && lakeDays(s3Store({ local: lake.localS3 }), lake.bucket, lake.prefix);
  const onDayError = (day: string, error: unknown): void =>
    void process.stderr.write(`sms-status: lake day ${day} unreadable: ${(error as Error).message}\n`);
  return {
    client: connect(tencent, { retry: { ...LOOKUP_RETRY, maxAttempts: 5 } }),
    lake: lake && days && { days, sdkAppId: tencent.sdkAppId, onDayError, retentionDays: lake.retentionDays },
    limits: { maxRecords: loadLookupMaxRecords(process.env), maxBytes: MAX_BODY_BYTES },
    tokenKey: pageTokenKey(tencent.sdkAppId, lake?.bucket ?? '', lake?.prefix ?? ''),
  };
}

/** The pages of a lookup as one document: every status, every RequestId, complete only if every page's parts were. */
function joined(pages: LookupResult[]): LookupResult {
  const first = pages[0] as LookupResult;
  const broken = new Set(pages.flatMap((page) => page.sources.filter((s) => !s.complete).map((s) => s.source)));
  return {
    ...first,
    complete: broken.size === 0,
    statuses: pages.flatMap((page) => page.statuses),
    requestIds: pages.flatMap((page) => page.requestIds),
    sources: first.sources.map((s) => ({ ...s, complete: s.complete && !broken.has(s.source) })),
  };
}

/** `sms-status lookup`: the HTTP API's answer, every page of it followed, as one JSON document. */
export async function runLookup(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) {
    throw new InvalidInput('give exactly one phone number: sms-status lookup <phoneNumber>', { field: 'phoneNumber' });
  }
  const raw: RawQuery = {
    phoneNumber: positionals[0],
    beginTime: values.begin,
    endTime: values.end,
    limit: values.limit,
    all: values.all,
    serialNo: values['serial-no'],
  };
  // Validate before reading credentials, so a typo never costs a request or a config error.
  parseQuery(raw, Math.floor(Date.now() / 1000), { lakeRetentionDays: loadLakeReadConfig(process.env)?.retentionDays });
  const deps = depsFromEnv();
  const run = { collect: { maxRequests: 2000, concurrency: 4 }, degrade: () => true };
  const pages = [await lookupPage(deps, raw, run)];
  for (let next = pages[0]?.nextToken; next; next = pages.at(-1)?.nextToken)
    pages.push(await lookupPage(deps, { ...raw, nextToken: next }, run));
  const { nextToken: _done, ...result } = joined(pages);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
