/**
 * An all=true lookup against a slow Tencent (6 s an answer) through the HTTP adapter, with a Lambda
 * clock that runs out as API Gateway's would: the lookup stops asking for new windows in time and
 * answers a partial 200 well inside 29 s, never a 5xx.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LOOKUP_RETRY } from '#lib/pace/retry.ts';
import { connect } from '#lib/connect.ts';
import { lookupHandlers } from '../../functions/lookup-handlers.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';

const BUSY = '+8613800138000';
const TIMEOUT_MS = 10_000;
const MAX_QUEUE_MS = 2000;

let twin: Twin;
beforeAll(async () => {
  twin = await startTwin({ latencyMs: 6000 });
});
afterAll(async () => {
  await twin?.close();
});

it('answers a partial 200 within API Gateway’s 29 s when every Tencent answer takes 6 s', async () => {
  const client = connect(
    {
      endpoint: twin.url,
      region: 'ap-guangzhou',
      sdkAppId: twin.sdkAppId,
      credentials: twin.credentials,
      timeoutMs: TIMEOUT_MS,
      rpsBudget: 4,
    },
    { retry: LOOKUP_RETRY, maxQueueMs: MAX_QUEUE_MS },
  );
  const { http } = lookupHandlers(client, 4, MAX_QUEUE_MS + TIMEOUT_MS);
  const started = Date.now();
  // The lookup's Lambda timeout (28 s), counting down in real time.
  const context = {
    getRemainingTimeInMillis: () => 28_000 - (Date.now() - started),
    awsRequestId: 'slow',
    functionName: 'lookup',
  } as unknown as Context;
  const beginTime = Math.floor(twin.now() / 1000) - 6 * 3600;
  const event = {
    httpMethod: 'GET',
    resource: '/v1/phone-numbers/{phoneNumber}/statuses',
    path: `/v1/phone-numbers/${encodeURIComponent(BUSY)}/statuses`,
    requestContext: {},
    headers: {},
    multiValueHeaders: {},
    pathParameters: { phoneNumber: encodeURIComponent(BUSY) },
    queryStringParameters: { all: 'true', beginTime: String(beginTime) },
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;

  const result = await http(event, context);
  const elapsed = Date.now() - started;
  expect(result.statusCode).toBe(200);
  expect(elapsed).toBeLessThan(29_000);
  const body = JSON.parse(result.body) as { complete: boolean; statuses: Array<{ serialNo: string }> };
  expect(body.complete).toBe(false);
  const truth = new Set(twin.truth(BUSY, beginTime, Math.floor(twin.now() / 1000)).map((s) => s.SerialNo));
  expect(body.statuses.length).toBeGreaterThan(0);
  for (const s of body.statuses) expect(truth.has(s.serialNo)).toBe(true);
}, 40_000);
