import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpEventNormalizer from '@middy/http-event-normalizer';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { PacedClient } from '#lib/connect.ts';
import { setDeadline } from '#lib/pace/paced.ts';
import type { Lake } from '#lib/status/lake-part.ts';
import type { LookupResult } from '#lib/status/lookup.ts';
import { lookupPage, type LookupDeps } from '#lib/status/lookup-page.ts';
import { MAX_BODY_BYTES } from '#lib/status/page.ts';
import { pageTokenKey } from '#lib/status/page-token.ts';
import type { RawQuery } from '#lib/status/query.ts';
import { InvalidInput } from '#lib/errors.ts';
import DEFAULTS from '../config/defaults.cjs';
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

/** What the handlers read besides the client: the lake, the page size (LOOKUP_MAX_RECORDS), the token key. */
export interface LookupSetup {
  lake?: LookupLake;
  maxRecords?: number;
  tokenKey?: Buffer;
}

/** Reading the lake in Tencent's stead takes well under this; with less time left, the error is the answer. */
const STAND_IN_MS = 3000;

/**
 * API Gateway gives up after 29 s: cap the window splitting at what the budget sends in ~20 s (80 windows
 * at the lookup's 4 req/s; no new window after the deadline either, a partial 200 instead). Windows in
 * flight: no more than one second of the budget (at most 4), so a window waits ≤ 1 s for its turn,
 * inside the 2 s after which the pacer refuses it (a 429 for the whole lookup), also after a slow-down.
 */
function collectOptionsFor(rpsBudget: number) {
  return {
    maxRequests: Math.max(10, Math.floor(rpsBudget * 20)),
    concurrency: Math.min(4, Math.max(1, Math.floor(rpsBudget))),
  };
}

/**
 * The lookup's adapters around one paced Tencent client (built once per container). `requestMs` is the
 * longest one request may take (queueing for the pacer, then Tencent's timeout). Without `lake`,
 * lookups reach Tencent's 7 days only.
 */
function lookupDeps(client: PacedClient, setup: LookupSetup): LookupDeps {
  const onDayError = (day: string, error: unknown): void => logger.warn('lake day object unreadable', { day, error });
  return {
    client,
    lake: setup.lake && { ...setup.lake, onDayError },
    limits: { maxRecords: setup.maxRecords ?? DEFAULTS.LOOKUP_MAX_RECORDS.default, maxBytes: MAX_BODY_BYTES },
    tokenKey: setup.tokenKey ?? pageTokenKey(),
  };
}

type Run = (raw: RawQuery, context: Context, degrade: boolean) => Promise<LookupResult>;

/**
 * One lookup, within the invocation's time: HTTP answers from the lake when Tencent is down (degrade); direct
 * invocations throw, so workflows retry.
 */
function lookupRun(client: PacedClient, rpsBudget: number, requestMs: number, setup: LookupSetup): Run {
  const collectOptions = collectOptionsFor(rpsBudget);
  const deps = lookupDeps(client, setup);
  return async (raw, context, degrade) => {
    try {
      // No new window and no retry starts after deadlineAt: one started by then (queueing, then Tencent's
      // timeout: requestMs) has its answer RESERVE_MS before the Lambda's timeout.
      const deadlineAt = setDeadline(client, Date.now(), context.getRemainingTimeInMillis() - requestMs, RESERVE_MS);
      const standIn = degrade ? () => context.getRemainingTimeInMillis() > STAND_IN_MS : undefined;
      const result = await lookupPage(deps, raw, {
        collect: { ...collectOptions, stopAt: deadlineAt },
        degrade: standIn,
      });
      const { complete, sources, requestIds } = result;
      logger.info('lookup', {
        phoneNumber: result.phoneNumber,
        complete,
        sources,
        statuses: result.statuses.length,
        requestIds,
        paged: result.nextToken !== undefined,
      });
      return result;
    } catch (error) {
      logger.warn('lookup failed', { error });
      throw error;
    }
  };
}

/** GET /v1/phone-numbers/{phoneNumber}/statuses through API Gateway. */
function httpLookup(run: Run) {
  const chain = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(httpEventNormalizer())
    .use(httpHeaderNormalizer())
    .use(httpErrorHandler({ logger: false, fallbackMessage: FALLBACK_BODY }))
    .use(errorResponse())
    .handler(async (event, context) => {
      const query = { ...event.queryStringParameters, phoneNumber: pathPhoneNumber(event.pathParameters?.phoneNumber) };
      const result = await run(query, context, true);
      return {
        statusCode: 200,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
        body: JSON.stringify(result),
      };
    });
  // The event normaliser fills in what API Gateway may leave null, so callers pass the plain event type.
  return chain as unknown as (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
}

export function lookupHandlers(client: PacedClient, rpsBudget: number, requestMs: number, setup: LookupSetup = {}) {
  const run = lookupRun(client, rpsBudget, requestMs, setup);
  const http = httpLookup(run);

  /** `aws lambda invoke` and Step Functions: the plain body out, taxonomy errors thrown with their name. */
  const direct = (event: RawQuery, context: Context): Promise<LookupResult> => run(event, context, false);

  /** One Lambda, `sms-status-<stage>-lookup`, for both triggers; logs carry the request id, metrics flush once. */
  const handler = middy<unknown, APIGatewayProxyResult | LookupResult>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(paceMetrics(client))
    .handler((event, context) => (isHttpEvent(event) ? http(event, context) : direct(event as RawQuery, context)));

  return { http, direct, handler };
}
