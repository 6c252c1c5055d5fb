import type http from 'node:http';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { createFaultPicker, injectFault } from './faults.ts';
import { drawLatency } from './latency.ts';
import type { TwinSettings } from './options.ts';
import { ordered } from './order.ts';
import { createRateLimiter } from './rate-limit.ts';
import type { Receipts } from './receipts.ts';
import { checkHeaders, checkParams, isError } from './rules.ts';
import type { StatsRecorder } from './stats.ts';
import { respond, respondError } from './tencent-response.ts';
import { verify, type TwinCredentials } from './verify.ts';

/** What the API endpoint answers from: the twin's identity, clock, knobs, counters and receipts. */
export interface SmsApiContext {
  credentials: TwinCredentials;
  sdkAppId: string;
  now(): number;
  settings(): TwinSettings;
  stats: StatsRecorder;
  receipts: Receipts;
  visible(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
  /** One stream for faults, latency and shuffling, so a seed replays a whole run. */
  random: () => number;
}

/** PullSmsSendStatusByPhoneNumber as Tencent serves it, rate limit, latency and faults included. */
export interface SmsApi {
  handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void;
  /** Starts the fault script of the `faults` setting afresh. */
  rescript(): void;
}

export function createSmsApi(context: SmsApiContext): SmsApi {
  const limiter = createRateLimiter();
  const faults = createFaultPicker(context.random);
  faults.rescript(context.settings().faults);
  const { stats } = context;
  return {
    // The limit counts requests as they arrive; latency only delays the answer.
    handle(req, res, body) {
      stats.received();
      const at = performance.now();
      const inWindow = limiter.admit(at, context.settings().rateLimit);
      if (inWindow === undefined) {
        stats.throttled();
        return respondError(res, stats, {
          code: 'RequestLimitExceeded',
          message: 'Your current request times exceeds the limit.',
        });
      }
      stats.accepted(at, inWindow);
      const answer = (): void => {
        const fault = faults.next(context.settings().faults);
        if (fault) return injectFault(fault, req, res, stats, context.settings().faults.hangMs);
        pull(context, req, res, body);
      };
      const delay = drawLatency(context.settings().latencyMs, context.random);
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    },
    rescript: () => faults.rescript(context.settings().faults),
  };
}

/** A request past the rate limit and fault injection: checked as Tencent checks it, then answered from the receipts. */
function pull(context: SmsApiContext, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const { stats } = context;
  const nowSeconds = Math.floor(context.now() / 1000);
  const error = checkHeaders(req.method, req.headers) ?? verify(req.headers, body, context.credentials, nowSeconds);
  if (error) return respondError(res, stats, error);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return respondError(res, stats, {
      code: 'FailedOperation.JsonParseFail',
      message: 'Failed to parse the request body.',
    });
  }
  const params = checkParams(parsed, context.sdkAppId, nowSeconds);
  if (isError(params)) return respondError(res, stats, params);
  if (context.receipts.profile(params.PhoneNumber).optedOut) {
    return respondError(res, stats, {
      code: 'FailedOperation.PhoneNumberInBlacklist',
      message: 'The mobile number is in the opt-out list.',
    });
  }
  const matching = context.visible(params.PhoneNumber, params.BeginTime, params.EndTime ?? nowSeconds);
  const { order } = context.settings();
  respond(res, stats, { PullSmsSendStatusSet: ordered(matching, order, context.random).slice(0, params.Limit) });
}
