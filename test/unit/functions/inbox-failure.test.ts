/**
 * The inbox's on-failure destination (serverless.yml: the failures queue) receives a scheduled tick's event
 * when, and only when, the invocation fails: the Lambda runtime fails an asynchronous invocation whose
 * handler rejects. serverless-offline does not emulate destinations, so this holds the handler to that
 * contract: a drain that cannot reach the lake rejects with S3's error (a drain that swallowed it would
 * succeed, and no message would land in the queue). test/integration/template-security.test.ts checks the
 * destination and the role's sqs:SendMessage in the packaged template.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CONTEXT = {
  getRemainingTimeInMillis: () => 60_000,
  awsRequestId: 'x',
  functionName: 'inbox',
} as unknown as Context;

let s3: Server;
let requests = 0;
beforeAll(async () => {
  // An S3 endpoint that refuses every request (403 AccessDenied, which no retry cures): the drain fails.
  s3 = createServer((_request, response) => {
    requests++;
    response.writeHead(403, { 'content-type': 'application/xml' });
    response.end(
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
    );
  });
  await new Promise<void>((resolve) => s3.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    EXPORT_BUCKET: 'inbox-failure-test',
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(s3.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    EVENTS_ENABLED: 'false',
  });
});
afterAll(() => new Promise<void>((resolve) => s3.close(() => resolve())));

describe('inbox handler, invoked asynchronously by its schedule', () => {
  it('rejects when the drain fails, so Lambda sends the event to the on-failure destination', async () => {
    const { handler } = await import('../../../functions/inbox.ts');
    const error = await handler({ drain: 'inbox' }, CONTEXT).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(requests).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(Error);
    expect(error?.name).toBe('AccessDenied');
  });
});
