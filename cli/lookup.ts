import { loadTencentConfig } from '#lib/config.ts';
import { LOOKUP_RETRY } from '#lib/pace/retry.ts';
import { lookup } from '#lib/status/lookup.ts';
import { parseQuery } from '#lib/status/query.ts';
import { InvalidInput } from '#lib/errors.ts';
import { connect } from '#lib/connect.ts';

export async function runLookup(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) {
    throw new InvalidInput('give exactly one phone number: sms-status lookup <phoneNumber>', { field: 'phoneNumber' });
  }
  // Validate before reading credentials, so a typo never costs a request or a config error.
  const query = parseQuery(
    { phoneNumber: positionals[0], beginTime: values.begin, endTime: values.end, limit: values.limit, all: values.all },
    Math.floor(Date.now() / 1000),
  );
  const client = connect(loadTencentConfig(process.env), { retry: { ...LOOKUP_RETRY, maxAttempts: 5 } });
  const result = await lookup(client, query, { maxRequests: 2000, concurrency: 4 });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
