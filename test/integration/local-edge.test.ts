/**
 * The local edge in front of serverless-offline answers what API Gateway answers by itself on the
 * deployed stack (resources/edge.yml): a missing or wrong key and an unknown route or method, in the
 * error shape; with the usage plan's throttle on (as `npm start` runs it), 429 with Retry-After.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadEdgeDefinition, type EdgeDefinition } from '../../local/edge/gateway-responses.ts';
import { startHttpEdge, type HttpEdge } from '../../local/edge/http-edge.ts';
import { freePort } from '../support/ports.ts';

const stack = inject('stack');
const STATUSES = '/dev/v1/phone-numbers/%2B8613711112222/statuses?limit=1';
let definition: EdgeDefinition;

beforeAll(async () => {
  definition = await loadEdgeDefinition(stack.env);
});

/** The answer resources/edge.yml gives for `type`, with the request id this answer carries. */
async function expectGatewayAnswer(
  response: Response,
  type: 'INVALID_API_KEY' | 'MISSING_AUTHENTICATION_TOKEN' | 'THROTTLED',
): Promise<void> {
  const body = await response.text();
  const requestId = (JSON.parse(body) as { error: { requestId: string } }).error.requestId;
  const expected = definition.answer(type, requestId);
  expect(response.status, body).toBe(expected.statusCode);
  expect(body).toBe(expected.body);
  for (const [name, value] of Object.entries(expected.headers)) expect(response.headers.get(name), name).toBe(value);
  expect(response.headers.get('x-amzn-requestid')).toBe(requestId);
}

describe('the local edge of the shared stack', () => {
  it('answers a missing key as INVALID_API_KEY', async () => {
    await expectGatewayAnswer(await fetch(`${stack.httpUrl}${STATUSES}`), 'INVALID_API_KEY');
  });

  it('answers a wrong key as INVALID_API_KEY', async () => {
    await expectGatewayAnswer(
      await fetch(`${stack.httpUrl}${STATUSES}`, { headers: { 'x-api-key': `${stack.apiKey}x` } }),
      'INVALID_API_KEY',
    );
  });

  it.each([
    ['GET', '/dev/v1/nothing'],
    ['GET', '/v1/phone-numbers/%2B8613711112222/statuses'],
    ['POST', STATUSES],
    ['DELETE', '/dev/v1/callbacks/tencent/x'],
  ])('answers %s %s, no such route, as MISSING_AUTHENTICATION_TOKEN', async (method, path) => {
    await expectGatewayAnswer(
      await fetch(`${stack.httpUrl}${path}`, { method, headers: { 'x-api-key': stack.apiKey } }),
      'MISSING_AUTHENTICATION_TOKEN',
    );
  });

  it('passes the functions’ own answers through: a lookup, a 400, a callback refused', async () => {
    const ok = await fetch(`${stack.httpUrl}${STATUSES}`, { headers: { 'x-api-key': stack.apiKey } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { statuses: unknown[] }).statuses).toHaveLength(1);
    const bad = await fetch(`${stack.httpUrl}/dev/v1/phone-numbers/123/statuses`, {
      headers: { 'x-api-key': stack.apiKey },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('phoneNumber');
    const refused = await fetch(`${stack.httpUrl}/dev/v1/callbacks/tencent/not-the-token`, {
      method: 'POST',
      body: '[]',
    });
    const direct = await fetch(`${stack.offlineHttpUrl}/dev/v1/callbacks/tencent/not-the-token`, {
      method: 'POST',
      body: '[]',
    });
    expect(refused.status).toBe(direct.status);
    expect(await refused.text()).toBe(await direct.text());
  });
});

describe('an edge throttling at the usage plan’s rate', () => {
  let edge: HttpEdge;
  beforeAll(async () => {
    edge = await startHttpEdge({
      port: await freePort(),
      target: stack.offlineHttpUrl,
      apiKey: stack.apiKey,
      definition,
      throttle: true,
    });
  });
  afterAll(() => edge?.close());

  // Requests the lookup answers 400 without asking Tencent: what the edge admits never waits on the
  // pacer, so every 429 is the edge's. Ten bursts at once: all admitted only if they arrived over 9 s.
  it('answers requests over the burst THROTTLED (429, Retry-After) before the function, and a wrong key still 403', async () => {
    const count = definition.throttle.burstLimit * 10;
    const bad = '/dev/v1/phone-numbers/123/statuses';
    const answers = await Promise.all(
      Array.from({ length: count }, () => fetch(`${edge.url}${bad}`, { headers: { 'x-api-key': stack.apiKey } })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 400 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(definition.throttle.burstLimit);
    const throttled = answers.filter((a) => a.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    for (const answer of throttled) await expectGatewayAnswer(answer, 'THROTTLED');
    for (const answer of answers.filter((a) => a.status === 400)) await answer.arrayBuffer();
    await expectGatewayAnswer(
      await fetch(`${edge.url}${STATUSES}`, { headers: { 'x-api-key': 'wrong' } }),
      'INVALID_API_KEY',
    );
  });
});

describe('the local Lambda API', () => {
  const clients: LambdaClient[] = [];
  afterAll(() => clients.forEach((c) => c.destroy()));

  async function invoke(endpoint: string, payload: unknown): Promise<{ error?: string; body: any }> {
    const lambda = new LambdaClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    clients.push(lambda);
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'sms-status-dev-lookup', Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    return { error: out.FunctionError, body: JSON.parse(Buffer.from(out.Payload ?? []).toString() || 'null') };
  }

  it('reports a function error under its own name, as Lambda does (serverless-offline says "Error")', async () => {
    const bad = await invoke(stack.lambdaUrl, { phoneNumber: '13711112222' });
    expect(bad.error).toBe('Unhandled');
    expect(bad.body).toMatchObject({
      errorType: 'InvalidInput',
      errorMessage: expect.stringContaining('IncorrectPhoneNumber'),
    });
    const optedOut = await invoke(stack.lambdaUrl, { phoneNumber: '+8613900139000' });
    expect(optedOut.body.errorType).toBe('InvalidInput');
    expect((await invoke(stack.offlineLambdaUrl, { phoneNumber: '13711112222' })).body.errorType).toBe('Error');
  });

  it('passes answers through as they are', async () => {
    const ok = await invoke(stack.lambdaUrl, { phoneNumber: '+8613711112222', limit: 1 });
    expect(ok.error).toBeUndefined();
    expect(ok.body.statuses).toHaveLength(1);
  });
});
