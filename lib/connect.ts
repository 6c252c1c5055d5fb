import type { TencentConfig } from '#lib/config.ts';
import { TokenBucket } from '#lib/pace/bucket.ts';
import { paced, type Paced, type PacedOptions } from '#lib/pace/paced.ts';
import type { RetryPolicy } from '#lib/pace/retry.ts';
import {
  createClient,
  MAX_SOCKETS,
  type Exchange,
  type PullPage,
  type PullRequest,
  type TencentClient,
} from '#lib/tencent/client.ts';
import { isThrottle, shouldResign } from '#lib/tencent/codes.ts';
import { credentialSource, refreshingCredentials } from '#lib/tencent/credentials.ts';
import { retentionClamped } from '#lib/tencent/retention.ts';
import type { CredentialSource } from '#lib/tencent/types.ts';

/** The Tencent client the use cases get: paced and retried, with its figures and its deadline. */
export type PacedClient = TencentClient & Omit<Paced<PullRequest, PullPage>, 'call'>;

export interface ConnectOptions {
  retry: RetryPolicy;
  maxQueueMs?: number;
  credentials?: CredentialSource;
  now?: () => number;
  /** Move each request's BeginTime up to Tencent's 7-day edge as it is sent (exports: windows age while they run). */
  clampToRetention?: boolean;
  /** Told of every request Tencent answered or failed (see lib/observability/upstream.ts). */
  observe?: (exchange: Exchange) => void;
}

/**
 * The composition root of the Tencent side: the raw client, the key refresh and the retention clamp
 * under one pacer, which is this process's share of Tencent's 20 req/s; the pacer and the retry policy
 * learn Tencent's codes from tencent/codes.ts.
 */
export function connect(config: TencentConfig, options: ConnectOptions): PacedClient {
  const credentials = options.credentials ?? credentialSource(config.credentials);
  const { endpoint, region, sdkAppId, timeoutMs } = config;
  const raw = createClient({
    endpoint,
    region,
    sdkAppId,
    timeoutMs,
    credentials,
    now: options.now,
    observe: options.observe,
  });
  const refreshing = refreshingCredentials(raw, credentials);
  const sent = options.clampToRetention ? retentionClamped(refreshing, options.now ?? Date.now) : refreshing;
  const pacing = {
    pacer: new TokenBucket(config.rpsBudget),
    retry: options.retry,
    maxQueueMs: options.maxQueueMs,
    maxInFlight: MAX_SOCKETS,
  };
  return keyFirst(pacedTencent(sent, pacing), credentials);
}

/**
 * Reads the key before a request takes its slot: a slot taken while the key was still being read (a
 * cold start's Secrets Manager call) would be spent late, together with every other slot taken then.
 */
function keyFirst(client: PacedClient, credentials: CredentialSource): PacedClient {
  const paced = client.pull;
  const pull: PacedClient['pull'] = async (request) => {
    await credentials.get();
    return paced(request);
  };
  return Object.assign(client, { pull });
}

export type PacingOptions = Omit<PacedOptions, 'isThrottle'>;

/** A Tencent client under a pacer and a retry policy that know Tencent's throttle and stale-signature codes. */
export function pacedTencent(client: TencentClient, options: PacingOptions): PacedClient {
  const pacing = paced((request: PullRequest) => client.pull(request), {
    ...options,
    retry: { ...options.retry, retryAtOnce: shouldResign },
    isThrottle,
  });
  return Object.assign(pacing, { pull: pacing.call });
}
