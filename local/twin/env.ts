import { ConfigError, boundedNumber, type Env } from '#lib/config.ts';
import { PUSH_RULES, type PushOptions } from './push-options.ts';
import { DEMO_CREDENTIALS, DEMO_SDK_APP_ID, TWIN_ORDERS, type TwinOptions, type TwinOrder } from './twin.ts';

/** The twin accepts the credentials and SmsSdkAppId of the environment, demo values when unset. */
export function twinOptionsFromEnv(env: Env): TwinOptions {
  const faultRate = boundedNumber(env, 'TWIN_FAULT_RATE', 0, 0, 1);
  const latency = boundedNumber(env, 'TWIN_LATENCY_MS', 0, 0, 60000);
  // Late carrier reports: this share of receipts reaches the API only TWIN_LATE_SECONDS after UserReceiveTime.
  const lateShare = boundedNumber(env, 'TWIN_LATE_SHARE', 0, 0, 1);
  const lateSeconds = boundedNumber(env, 'TWIN_LATE_SECONDS', 7200, 0, 7 * 24 * 3600);
  const order = env.TWIN_ORDER?.trim();
  return {
    credentials: {
      secretId: env.TENCENTCLOUD_SECRET_ID || DEMO_CREDENTIALS.secretId,
      secretKey: env.TENCENTCLOUD_SECRET_KEY || DEMO_CREDENTIALS.secretKey,
      token: env.TENCENTCLOUD_SESSION_TOKEN || undefined,
    },
    sdkAppId: env.SMS_SDK_APP_ID || DEMO_SDK_APP_ID,
    latencyMs: latency || undefined,
    faults: faultRate ? { rate: faultRate } : undefined,
    lateReports: lateShare ? { share: lateShare, delaySeconds: lateSeconds } : undefined,
    order: order ? twinOrder(order, 'TWIN_ORDER') : undefined,
    push: pushOptionsFromEnv(env),
  };
}

/**
 * TWIN_PUSH_URL, TWIN_PUSH_RATE and TWIN_PUSH_BATCH: the callback a started twin pushes its receipts to.
 * Undefined without a URL; a rate or batch size is checked even then, so a typo fails fast.
 */
export function pushOptionsFromEnv(env: Env): PushOptions | undefined {
  const rate = pushNumber(env.TWIN_PUSH_RATE, 'TWIN_PUSH_RATE', 'rate');
  const batchSize = pushNumber(env.TWIN_PUSH_BATCH, 'TWIN_PUSH_BATCH', 'batchSize');
  const url = pushUrl(env.TWIN_PUSH_URL, 'TWIN_PUSH_URL');
  return url === undefined ? undefined : { url, rate, batchSize };
}

/** A callback URL given as text (a variable or a flag), undefined when blank; a ConfigError naming `name` when unusable. */
export function pushUrl(text: string | undefined, name: string): string | undefined {
  const value = text?.trim();
  if (!value) return undefined;
  if (!PUSH_RULES.url.ok(value)) throw new ConfigError(name, PUSH_RULES.url.rule);
  return value;
}

/** A push rate or batch size given as text, undefined when blank; a ConfigError naming `name` when unusable. */
export function pushNumber(text: string | undefined, name: string, field: 'rate' | 'batchSize'): number | undefined {
  const value = text?.trim();
  if (!value) return undefined;
  if (!PUSH_RULES[field].ok(Number(value)))
    throw new ConfigError(name, `${PUSH_RULES[field].rule}, got '${value.slice(0, 32)}'`);
  return Number(value);
}

/** `value` as the order of the twin's answers; a ConfigError naming `name` (a variable or a flag) otherwise. */
export function twinOrder(value: string, name: string): TwinOrder {
  if (TWIN_ORDERS.includes(value as TwinOrder)) return value as TwinOrder;
  throw new ConfigError(name, `must be one of ${TWIN_ORDERS.join(', ')}, got '${value.slice(0, 32)}'`);
}
