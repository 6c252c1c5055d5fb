import { boundedNumber, ConfigError } from '#lib/config.ts';
import DEFAULTS from '../config/defaults.cjs';
import { startTwin, type PushOptions, type Twin } from '../local/twin/twin.ts';
import { pushNumber, pushUrl, twinOptionsFromEnv, twinOrder } from '../local/twin/env.ts';

type Values = Record<string, string | boolean | undefined>;

const flag = (value: string | boolean | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** --push-url, --push-rate and --push-batch, each winning over its TWIN_PUSH_* variable; undefined without a URL. */
function pushOptions(values: Values): PushOptions | undefined {
  const env = process.env;
  const url = pushUrl(flag(values['push-url']), '--push-url') ?? pushUrl(env.TWIN_PUSH_URL, 'TWIN_PUSH_URL');
  const rateFlag = pushNumber(flag(values['push-rate']), '--push-rate', 'rate');
  const batchFlag = pushNumber(flag(values['push-batch']), '--push-batch', 'batchSize');
  if (url === undefined && (rateFlag !== undefined || batchFlag !== undefined)) {
    throw new ConfigError('--push-url', 'is needed with --push-rate or --push-batch (or set TWIN_PUSH_URL)');
  }
  if (url === undefined) return undefined;
  const rate = rateFlag ?? pushNumber(env.TWIN_PUSH_RATE, 'TWIN_PUSH_RATE', 'rate');
  const batchSize = batchFlag ?? pushNumber(env.TWIN_PUSH_BATCH, 'TWIN_PUSH_BATCH', 'batchSize');
  return { url, rate, batchSize };
}

/** Says on stderr where the twin pushes, and when the receiver has acknowledged everything. */
function reportPush(twin: Twin): void {
  const job = twin.lastPush();
  if (!job) return;
  const { url, receipts, batches } = job.stats();
  process.stderr.write(
    `  pushing ${receipts} receipts in ${batches} batches to ${url} (GET ${twin.url}/_twin/push for progress)\n`,
  );
  void job.finished.then((s) => {
    if (s.done) process.stderr.write(`push done: ${s.acked} receipts acknowledged, ${s.retries} retries\n`);
  });
}

export async function runTwin(values: Values): Promise<number> {
  const port =
    values.port === undefined
      ? boundedNumber(process.env, 'TWIN_PORT', DEFAULTS.TWIN_PORT.default, 0, 65535)
      : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('--port must be a port number from 0 to 65535');
  const options = twinOptionsFromEnv(process.env);
  // --order wins over TWIN_ORDER.
  if (typeof values.order === 'string') options.order = twinOrder(values.order, '--order');
  const twin = await startTwin({ ...options, port, push: pushOptions(values) });
  process.stderr.write(
    `Tencent twin listening on ${twin.url}\n` +
      `  TENCENT_SMS_ENDPOINT=${twin.url} TENCENTCLOUD_SECRET_ID=${twin.credentials.secretId} ` +
      `TENCENTCLOUD_SECRET_KEY=${twin.credentials.secretKey} SMS_SDK_APP_ID=${twin.sdkAppId}\n` +
      `  demo numbers: +8613711112222 (ordinary), +8613800138000 (600 in one hour), +8615000150000 (failures),\n` +
      `                +8613600136000 (150 in one second), +8613900139000 (opted out), +14155550123,\n` +
      `                +8613500135000 (450 in one hour), +8613300133000 (700 over 6 days), +8613400134000 (3 bursts of 200)\n` +
      `  answer order: ${options.order ?? 'shuffled'} (--order or TWIN_ORDER: shuffled, ascending, descending)\n` +
      'Ctrl-C stops it.\n',
  );
  reportPush(twin);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await twin.close();
  return 0;
}
