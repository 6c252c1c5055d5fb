import { boundedNumber } from '#lib/config.ts';
import { startTwin } from '../local/twin/twin.ts';
import { twinOptionsFromEnv, twinOrder } from '../local/twin/env.ts';

export async function runTwin(values: Record<string, string | boolean | undefined>): Promise<number> {
  const port = values.port === undefined ? boundedNumber(process.env, 'TWIN_PORT', 9000, 0, 65535) : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be a port number from 0 to 65535');
  const options = twinOptionsFromEnv(process.env);
  // --order wins over TWIN_ORDER.
  if (typeof values.order === 'string') options.order = twinOrder(values.order, '--order');
  const twin = await startTwin({ ...options, port });
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
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await twin.close();
  return 0;
}
