import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpEventNormalizer from '@middy/http-event-normalizer';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { loadTencentConfig } from '#lib/config.ts';
import { LOOKUP_RETRY } from '#lib/pace/retry.ts';
import { lookup, type LookupResult } from '#lib/status/lookup.ts';
import { parseQuery, type RawQuery } from '#lib/status/query.ts';
import { connect } from '#lib/tencent/connect.ts';
import { InvalidInput } from '#lib/tencent/errors.ts';
import { errorResponse, FALLBACK_BODY } from './middleware/error-response.ts';

// Read once per container: a wrong variable fails the cold start, naming the variable.
const config = loadTencentConfig(process.env);
const client = connect(config, { retry: LOOKUP_RETRY, maxQueueMs: 2000 });
// API Gateway gives up after 29 s: cap the window splitting at what the budget sends in ~20 s.
const pullOptions = { maxRequests: Math.max(10, Math.floor(config.rpsBudget * 20)), concurrency: 4 };
const RESERVE_MS = 1500;

async function run(raw: RawQuery, context: Context): Promise<LookupResult> {
  const query = parseQuery(raw, Math.floor(Date.now() / 1000));
  client.deadlineAt = Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS;
  return lookup(client, query, pullOptions);
}

function pathPhoneNumber(value: string | undefined): string | undefined {
  if (value === undefined || !value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new InvalidInput('phoneNumber is not valid percent-encoding', {
      field: 'phoneNumber',
      code: 'InvalidParameterValue.IncorrectPhoneNumber',
    });
  }
}

/** GET /v1/phone-numbers/{phoneNumber}/statuses through API Gateway. */
export const http = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
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

/** `aws lambda invoke` and Step Functions: the plain body out, taxonomy errors thrown with their name. */
export async function direct(event: RawQuery, context: Context): Promise<LookupResult> {
  return run(event, context);
}

function isHttpEvent(event: unknown): event is APIGatewayProxyEvent {
  return typeof event === 'object' && event !== null && 'httpMethod' in event && 'requestContext' in event;
}

/** One Lambda, `sms-status-<stage>-lookup`, for both triggers. */
export async function handler(event: unknown, context: Context): Promise<APIGatewayProxyResult | LookupResult> {
  return isHttpEvent(event) ? http(event as Parameters<typeof http>[0], context) : direct(event as RawQuery, context);
}
