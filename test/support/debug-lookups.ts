// Run by test/integration/logging.test.ts in a child process, so everything the lookup handler logs
// (stdout and stderr) can be read whole. The environment points it at a twin.
import type { Context } from 'aws-lambda';

const { handler } = (await import('../../functions/lookup.ts')) as unknown as {
  handler: (event: unknown, context: Context) => Promise<unknown>;
};

const context = {
  awsRequestId: 'lambda-request-1',
  functionName: 'sms-status-dev-lookup',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sms-status-dev-lookup',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 25_000,
} as unknown as Context;

function httpEvent(phoneNumber: string, query: Record<string, string> = {}) {
  return {
    httpMethod: 'GET',
    resource: '/v1/phone-numbers/{phoneNumber}/statuses',
    path: `/v1/phone-numbers/${phoneNumber}/statuses`,
    headers: { 'x-api-key': 'local-key', Authorization: 'Bearer caller-token-should-not-be-logged' },
    pathParameters: { phoneNumber },
    queryStringParameters: query,
    requestContext: { requestId: 'apigw-1' },
  };
}

const begin = String(Math.floor(Date.now() / 1000) - 6 * 3600);
await handler(httpEvent('%2B8613711112222'), context);
await handler(httpEvent('%2B8613800138000', { all: 'true', beginTime: begin }), context);
await handler(httpEvent('%2B8613900139000'), context);
await handler({ phoneNumber: '+8615000150000', all: true }, context);
await handler({ phoneNumber: '13711112222' }, context).catch(() => undefined);
await handler({ phoneNumber: '+8613900139000' }, context).catch(() => undefined);
