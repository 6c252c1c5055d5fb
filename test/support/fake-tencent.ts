import { prng } from '../../local/twin/data.ts';
import { pacedTencent, type PacedClient } from '#lib/connect.ts';
import type { PullRequest, TencentClient } from '#lib/tencent/client.ts';
import { fromTencentError } from '#lib/tencent/codes.ts';
import { retentionClamped } from '#lib/tencent/retention.ts';
import { MAX_LOOKBACK_SECONDS, type PullSmsSendStatus } from '#lib/tencent/types.ts';

export interface FakeTencentOptions {
  /** Every receipt Tencent holds for a number. */
  receipts: (phoneNumber: string) => PullSmsSendStatus[];
  /** Answers a call with an error instead (the call's 1-based index). */
  fail?: (request: PullRequest, call: number) => Error | undefined;
  optedOut?: (phoneNumber: string) => boolean;
  /** Tencent's clock (ms): with it, a BeginTime older than 7 days is refused as Tencent does. */
  now?: () => number;
  /** When a receipt becomes visible (unix seconds): carriers report some late. */
  visibleAt?: (receipt: PullSmsSendStatus) => number;
  /** Put the product's retention clamp between the pacer and this Tencent, as `connect` does for exports. */
  clamp?: boolean;
}

export interface FakeClient extends PacedClient {
  /** Every request that reached Tencent. */
  calls: PullRequest[];
}

/**
 * Tencent as the API describes it (no paging, no order, at most Limit records), behind the product's
 * real pacing client with no pause and no retry, so requests are counted as in production.
 */
export function fakeTencent(options: FakeTencentOptions): FakeClient {
  const random = prng(7);
  const calls: PullRequest[] = [];
  const raw: TencentClient = {
    async pull(request) {
      calls.push({ ...request });
      const call = calls.length;
      await new Promise((resolve) => setImmediate(resolve));
      const error = options.fail?.(request, call);
      if (error) throw error;
      const nowSeconds = options.now ? Math.floor(options.now() / 1000) : undefined;
      if (nowSeconds !== undefined && request.beginTime < nowSeconds - MAX_LOOKBACK_SECONDS) {
        throw fromTencentError('InvalidParameterValue.BeginTimeVerifyFail', 'BeginTime is more than 7 days ago.', `rid-${call}`);
      }
      if (options.optedOut?.(request.phoneNumber)) {
        throw fromTencentError('FailedOperation.PhoneNumberInBlacklist', 'The mobile number is in the opt-out list.', `rid-${call}`);
      }
      const visibleBy = nowSeconds ?? Number.POSITIVE_INFINITY;
      const inside = options
        .receipts(request.phoneNumber)
        .filter((s) => (s.UserReceiveTime as number) >= request.beginTime && (s.UserReceiveTime as number) <= request.endTime)
        .filter((s) => (options.visibleAt?.(s) ?? 0) <= visibleBy)
        .map((s) => ({ ...s }));
      for (let i = inside.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [inside[i], inside[j]] = [inside[j] as PullSmsSendStatus, inside[i] as PullSmsSendStatus];
      }
      return { statuses: inside.slice(0, request.limit), requestId: `rid-${call}` };
    },
  };
  const sent = options.clamp ? retentionClamped(raw, options.now ?? Date.now) : raw;
  const paced = pacedTencent(sent, { pacer: { take: async () => undefined, slowDown: () => undefined }, retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
  return Object.assign(paced, { calls });
}
