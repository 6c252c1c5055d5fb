import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpEventNormalizer from '@middy/http-event-normalizer';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { PacedClient } from '#lib/connect.ts';
import { finishBy } from '#lib/pace/paced.ts';
import { history, type Lake } from '#lib/status/history.ts';
import type { LookupResult } from '#lib/status/lookup.ts';
import { parseQuery, type RawQuery } from '#lib/status/query.ts';
import { InvalidInput } from '#lib/errors.ts';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { logger } from '#lib/observability/logger.ts';
import { metrics } from '#lib/observability/metrics.ts';
import { errorResponse, FALLBACK_BODY } from './middleware/error-response.ts';
import { paceMetrics } from './middleware/pace-metrics.ts';

const RESERVE_MS = 1500;

function pathPhoneNumber(value: string | null | undefined): string | null | undefined {
  if (typeof value !== 'string' || !value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new InvalidInput('phoneNumber is not valid percent-encoding', {
      field: 'phoneNumber',
      code: 'InvalidParameterValue.IncorrectPhoneNumber',
    });
  }
}

function isHttpEvent(event: unknown): event is APIGatewayProxyEvent {
  return typeof event === 'object' && event !== null && 'httpMethod' in event && 'requestContext' in event;
}

/** The lake a lookup reads past Tencent's 7 days, back to `retentionDays` (EXPORT_RETENTION_DAYS). */
export type LookupLake = Lake & { retentionDays: number };

/**
 * API Gateway gives up after 29 s: cap the window splitting at what the budget sends in ~20 s (80 windows
 * at the lookup's 4 req/s; no new window after the deadline either, a partial 200 instead). Windows in
 * flight: no more than one second of the budget (at most 4), so a window waits ≤ 1 s for its turn,
 * inside the 2 s after which the pacer refuses it (a 429 for the whole lookup), also after a slow-down.
 */
function collectOptionsFor(rpsBudget: number) {
  return { maxRequests: Math.max(10, Math.floor(rpsBudget * 20)), concurrency: Math.min(4, Math.max(1, Math.floor(rpsBudget))) };
}

/**
 * The lookup's adapters around one paced Tencent client (built once per container). `requestMs` is the
 * longest one request may take (queueing for the pacer, then Tencent's timeout). Without `lake`,
 * lookups reach Tencent's 7 days only.
 */
export function lookupHandlers(client: PacedClient, rpsBudget: number, requestMs: number, lake?: LookupLake) {
  const collectOptions = collectOptionsFor(rpsBudget);
  const onDayError = (day: string, error: unknown): void => logger.warn('lake day object unreadable', { day, error });
  const logged = lake && { ...lake, onDayError };

  async function run(raw: RawQuery, context: Context): Promise<LookupResult> {
    try {
      const query = parseQuery(raw, Math.floor(Date.now() / 1000), { lakeRetentionDays: lake?.retentionDays });
      // No new window and no retry starts after deadlineAt: one started by then (queueing, then Tencent's
      // timeout: requestMs) has its answer RESERVE_MS before the Lambda's timeout.
      const deadlineAt = finishBy(client, Date.now(), context.getRemainingTimeInMillis() - requestMs, RESERVE_MS);
      const result = await history(client, logged, query, { collect: { ...collectOptions, stopAt: deadlineAt } });
      const { complete, sources, requestIds } = result;
      logger.info('lookup', { phoneNumber: query.phoneNumber, all: query.all, complete, sources, statuses: result.statuses.length, requestIds });
      return result;
    } catch (error) {
      logger.warn('lookup failed', { error });
      throw error;
    }
  }

  /** GET /v1/phone-numbers/{phoneNumber}/statuses through API Gateway. */
  const httpChain = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(httpEventNormalizer())
    .use(httpHeaderNormalizer())
    .use(httpErrorHandler({ logger: false, fallbackMessage: FALLBACK_BODY }))
    .use(errorResponse())
    .handler(async (event, context) => {
      const result = await run(
        { ...event.queryStringParameters, phoneNumber: pathPhoneNumber(event.pathParameters?.phoneNumber) },
        context,
      );
      return {
        statusCode: 200,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
        body: JSON.stringify(result),
      };
    });

  // The event normaliser fills in what API Gateway may leave null, so callers pass the plain event type.
  const http = httpChain as unknown as (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

  /** `aws lambda invoke` and Step Functions: the plain body out, taxonomy errors thrown with their name. */
  const direct = (event: RawQuery, context: Context): Promise<LookupResult> => run(event, context);

  /** One Lambda, `sms-status-<stage>-lookup`, for both triggers; logs carry the request id, metrics flush once. */
  const handler = middy<unknown, APIGatewayProxyResult | LookupResult>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(paceMetrics(client))
    .handler((event, context) => (isHttpEvent(event) ? http(event, context) : direct(event as RawQuery, context)));

  return { http, direct, handler };
}
