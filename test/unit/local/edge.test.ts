import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadEdgeDefinition } from '../../../local/edge/gateway-responses.ts';
import { namedError } from '../../../local/edge/lambda-edge.ts';
import { UsagePlanThrottle } from '../../../local/edge/usage-plan-throttle.ts';

const edgeYml = parse(await readFile(new URL('../../../resources/edge.yml', import.meta.url), 'utf8'));
const templateOf = (type: string): string =>
  (Object.values(edgeYml.Resources) as any[]).find((r) => r.Properties.ResponseType === type).Properties
    .ResponseTemplates['application/json'];

describe('the local edge’s answers', () => {
  it('are resources/edge.yml’s templates, rendered with the request id', async () => {
    const edge = await loadEdgeDefinition({});
    for (const type of ['INVALID_API_KEY', 'MISSING_AUTHENTICATION_TOKEN', 'THROTTLED'] as const) {
      const answer = edge.answer(type, 'req-1');
      expect(answer.body).toBe(templateOf(type).replaceAll('$context.requestId', 'req-1'));
      expect(JSON.parse(answer.body).error.requestId).toBe('req-1');
      expect(answer.headers['Cache-Control']).toBe('no-store');
      expect(answer.headers['Content-Type']).toBe('application/json');
    }
    expect(edge.answer('INVALID_API_KEY', 'x').statusCode).toBe(403);
    expect(edge.answer('MISSING_AUTHENTICATION_TOKEN', 'x').statusCode).toBe(403);
    expect(edge.answer('THROTTLED', 'x').statusCode).toBe(429);
  });

  it('take the usage plan and Retry-After from config/budget.cjs at TENCENT_RPS_TOTAL, as a deploy does', async () => {
    const byDefault = await loadEdgeDefinition({});
    expect(byDefault.throttle).toEqual({ rateLimit: 8, burstLimit: 8 });
    expect(byDefault.answer('THROTTLED', 'x').headers['Retry-After']).toBe('1');
    const small = await loadEdgeDefinition({ TENCENT_RPS_TOTAL: '0.5' });
    expect(small.throttle).toEqual({ rateLimit: 0.2, burstLimit: 1 });
    expect(small.answer('THROTTLED', 'x').headers['Retry-After']).toBe('5');
  });

  it('refuses a TENCENT_RPS_TOTAL a deploy would refuse', async () => {
    await expect(loadEdgeDefinition({ TENCENT_RPS_TOTAL: '21' })).rejects.toThrow(/TENCENT_RPS_TOTAL/);
  });
});

describe('UsagePlanThrottle', () => {
  it('admits a burst, then the rate, and never queues', () => {
    let now = 0;
    const plan = new UsagePlanThrottle(8, 8, () => now);
    const burst = Array.from({ length: 10 }, () => plan.admit());
    expect(burst.filter(Boolean)).toHaveLength(8);
    now += 125;
    expect(plan.admit()).toBe(true);
    expect(plan.admit()).toBe(false);
    now += 10_000;
    expect(Array.from({ length: 10 }, () => plan.admit()).filter(Boolean)).toHaveLength(8);
  });

  it('admits one every five seconds at 0.2/s with a burst of one', () => {
    let now = 0;
    const plan = new UsagePlanThrottle(0.2, 1, () => now);
    expect(plan.admit()).toBe(true);
    now += 4999;
    expect(plan.admit()).toBe(false);
    now += 1;
    expect(plan.admit()).toBe(true);
  });
});

describe('namedError', () => {
  const payload = (first: string, message = 'InvalidParameter: limit must be a whole number') => ({
    errorType: 'Error',
    errorMessage: message,
    trace: [first, '    at parse (lookup.mjs:1:2)'],
  });

  it('takes the name from the first line of the stack', () => {
    expect(namedError(payload('InvalidInput: InvalidParameter: limit must be a whole number')).errorType).toBe(
      'InvalidInput',
    );
    expect(namedError(payload('TypeError: x is not a function', 'x is not a function')).errorType).toBe('TypeError');
  });

  it('leaves it when the line is not the name and message, or the type is already named', () => {
    expect(namedError(payload('something else entirely')).errorType).toBe('Error');
    expect(namedError(payload('Invalid Input: InvalidParameter: limit must be a whole number')).errorType).toBe(
      'Error',
    );
    expect(namedError({ errorType: 'RateLimited', errorMessage: 'x', trace: ['Other: x'] }).errorType).toBe(
      'RateLimited',
    );
    expect(namedError({ errorType: 'Error', errorMessage: 'x' }).errorType).toBe('Error');
  });
});
