import type { TencentConfig } from '#lib/config.ts';
import { TokenBucket } from '#lib/pace/bucket.ts';
import { pacedClient, type PacedClient } from '#lib/pace/paced-client.ts';
import type { RetryPolicy } from '#lib/pace/retry.ts';
import { createClient, type TencentClient } from './client.ts';
import { credentialSource } from './credentials.ts';
import { retentionClamped } from './retention.ts';
import type { CredentialSource } from './types.ts';

export interface ConnectOptions {
  retry: RetryPolicy;
  maxQueueMs?: number;
  credentials?: CredentialSource;
  now?: () => number;
  /** Move each request's BeginTime up to Tencent's 7-day edge as it is sent (exports: windows age while they run). */
  clampToRetention?: boolean;
}

/** One paced, retrying client per process: the bucket is this process's share of Tencent's 20 req/s. */
export function connect(config: TencentConfig, options: ConnectOptions): PacedClient {
  const credentials = options.credentials ?? credentialSource(config.credentials);
  const raw = createClient({
    endpoint: config.endpoint,
    region: config.region,
    sdkAppId: config.sdkAppId,
    credentials,
    timeoutMs: config.timeoutMs,
    now: options.now,
  });
  const rejectedKey: TencentClient = {
    async pull(request) {
      try {
        return await raw.pull(request);
      } catch (error) {
        if ((error as { code?: string }).code?.startsWith('AuthFailure')) credentials.invalidate?.();
        throw error;
      }
    },
  };
  const sent = options.clampToRetention ? retentionClamped(rejectedKey, options.now ?? Date.now) : rejectedKey;
  return pacedClient(sent, {
    pacer: new TokenBucket(config.rpsBudget),
    retry: options.retry,
    maxQueueMs: options.maxQueueMs,
  });
}
