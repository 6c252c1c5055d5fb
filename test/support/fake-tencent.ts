import { prng } from '../../local/twin/data.ts';
import { pacedTencent, type PacedClient } from '#lib/connect.ts';
import type { PullRequest, TencentClient } from '#lib/tencent/client.ts';
import { fromTencentError } from '#lib/tencent/codes.ts';
import { retentionClamped } from '#lib/tencent/retention.ts';
import { MAX_LOOKBACK_SECONDS, type PullSmsSendStatus } from '#lib/tencent/types.ts';
import type { FakeClock } from './fake-clock.ts';

/**
 * How an answer is ordered. 'shuffled': the window's receipts, in the order they are held, shuffled;
 * 'ascending' / 'descending': by UserReceiveTime, then SerialNo; 'mixed': each answer in one of the three,
 * drawn at random, as an adversary (or a changing Tencent) might.
 */
export type AnswerOrder = 'shuffled' | 'ascending' | 'descending' | 'mixed';

export interface FakeTencentOptions {
  /** Every receipt Tencent holds for a number (the request is given to fakes that make receipts up). */
  receipts: (phoneNumber: string, request: PullRequest) => PullSmsSendStatus[];
  /** Default 'shuffled'. */
  order?: AnswerOrder;
  /** Seeds the fake's one random stream (async turns, mixed orders, shuffles, in that order per call). Default 7. */
  seed?: number;
  /**
   * Event-loop turns before each answer: a count (default 1), or 'random' for 0 to 3 drawn from the
   * random stream, so concurrent windows finish out of order.
   */
  turns?: number | 'random';
  /** Answers a call with an error instead (the call's 1-based index). */
  fail?: (request: PullRequest, call: number) => Error | undefined;
  /** Statuses appended to each page after the cut at Limit (duplicates a misbehaving server might send). */
  extra?: (page: PullSmsSendStatus[]) => PullSmsSendStatus[];
  optedOut?: (phoneNumber: string) => boolean;
  /** Tencent's clock (ms): with it, a BeginTime older than 7 days is refused as Tencent does. */
  now?: () => number;
  /** When a receipt becomes visible (unix seconds): carriers report some late. */
  visibleAt?: (receipt: PullSmsSendStatus) => number;
  /** A clock each request moves on by `requestMs` as it is sent (default REQUEST_MS): time spent waiting on Tencent. */
  clock?: FakeClock;
  requestMs?: number;
}

/** Tencent's API itself, with a log of what reached it. */
export interface FakeTencentApi extends TencentClient {
  /** Every request that reached Tencent, in the order sent. */
  calls: PullRequest[];
  /** The most requests Tencent was answering at once. */
  readonly maxInFlight: number;
}

export interface FakeClientOptions extends FakeTencentOptions {
  /** Put the product's retention clamp between the pacer and this Tencent, as `connect` does for exports. */
  clamp?: boolean;
}

export interface FakeClient extends PacedClient {
  /** Every request that reached Tencent, in the order sent. */
  calls: PullRequest[];
  readonly maxInFlight: number;
}

/** How long a request takes on `clock` unless `requestMs` says otherwise. */
export const REQUEST_MS = 1000;

const ORDERS = ['shuffled', 'ascending', 'descending'] as const;

const byTime = (a: PullSmsSendStatus, b: PullSmsSendStatus): number =>
  (a.UserReceiveTime as number) - (b.UserReceiveTime as number) || String(a.SerialNo).localeCompare(String(b.SerialNo));

/**
 * Tencent as the API describes it: no paging, no documented order, at most Limit records of those with
 * BeginTime ≤ UserReceiveTime ≤ EndTime. This is what `collect` talks to; the use cases get it behind
 * the pacing client (`fakeTencent`).
 */
export function fakeTencentApi(options: FakeTencentOptions): FakeTencentApi {
  const random = prng(options.seed ?? 7);
  const calls: PullRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    async pull(request) {
      calls.push({ ...request });
      const call = calls.length;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      options.clock?.advance(options.requestMs ?? REQUEST_MS);
      try {
        const turns = options.turns === 'random' ? Math.floor(random() * 4) : (options.turns ?? 1);
        for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
        const error = options.fail?.(request, call);
        if (error) throw error;
        const nowSeconds = options.now ? Math.floor(options.now() / 1000) : undefined;
        if (nowSeconds !== undefined && request.beginTime < nowSeconds - MAX_LOOKBACK_SECONDS) {
          throw fromTencentError(
            'InvalidParameterValue.BeginTimeVerifyFail',
            'BeginTime is more than 7 days ago.',
            `rid-${call}`,
          );
        }
        if (options.optedOut?.(request.phoneNumber)) {
          throw fromTencentError(
            'FailedOperation.PhoneNumberInBlacklist',
            'The mobile number is in the opt-out list.',
            `rid-${call}`,
          );
        }
        const visibleBy = nowSeconds ?? Number.POSITIVE_INFINITY;
        const inside = options
          .receipts(request.phoneNumber, request)
          .filter(
            (s) =>
              (s.UserReceiveTime as number) >= request.beginTime && (s.UserReceiveTime as number) <= request.endTime,
          )
          .filter((s) => (options.visibleAt?.(s) ?? 0) <= visibleBy);
        const order = options.order ?? 'shuffled';
        if (order !== 'shuffled') inside.sort(byTime);
        const answer = order === 'mixed' ? ORDERS[Math.floor(random() * 3)] : order;
        if (answer === 'descending') inside.reverse();
        if (answer === 'shuffled') shuffle(inside, random);
        const page = inside.slice(0, request.limit);
        const statuses = [...page, ...(options.extra?.(page) ?? [])].map((s) => ({ ...s }));
        return { statuses, requestId: `rid-${call}` };
      } finally {
        inFlight -= 1;
      }
    },
  };
}

/**
 * Tencent behind the product's real pacing client with no pause and no retry, so requests are counted
 * as in production; `clamp` puts the product's retention clamp between them, as `connect` does for exports.
 */
export function fakeTencent(options: FakeClientOptions): FakeClient {
  const api = fakeTencentApi(options);
  const sent = options.clamp ? retentionClamped(api, options.now ?? Date.now) : api;
  const paced = pacedTencent(sent, {
    pacer: { take: async () => undefined, slowDown: () => undefined },
    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
  });
  return Object.defineProperties(Object.assign(paced, { calls: api.calls }), {
    maxInFlight: { get: () => api.maxInFlight, enumerable: true },
  }) as FakeClient;
}

/** Fisher–Yates, in place. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
