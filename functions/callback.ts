import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { loadCallbackConfig } from '#lib/config.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { logger } from '#lib/observability/logger.ts';
import { metrics } from '#lib/observability/metrics.ts';
import { tokenCheck } from '#lib/push/token.ts';
import { callbackHttp } from './middleware/callback-http.ts';

// Read once per container: a missing or short token fails the cold start, naming the variable.
const config = loadCallbackConfig(process.env);
const receive = callbackHttp({
  store: s3Store({ local: config.localS3 }),
  settings: config,
  checkToken: tokenCheck(config.token),
});

/** Tencent's status callback (POST /v1/callbacks/tencent/{token}): validate, store one inbox object, answer. */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler((event, context) => receive(event, context));
