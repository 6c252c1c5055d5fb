/**
 * The edge in the packaged template (resources/edge.yml, config/budget.cjs, docs/edge.md): API Gateway's
 * own answers in the API's error shape, and the arithmetic that keeps Lambda from ever throttling a
 * lookup API Gateway let through (API Gateway would answer that with a 500):
 *   Σ reservedConcurrency × TENCENT_RPS_BUDGET ≤ TENCENT_RPS_TOTAL          (Tencent's 20 req/s)
 *   burst + rate × (lookup timeout + init) ≤ the lookup's reservedConcurrency (no Lambda throttling)
 * Read from the package the test run's global setup made (default parameters, stage dev, TENCENT_RPS_TOTAL
 * pinned at 20 by PACKAGE_PLAIN whatever the shell says, so the values at 20 are always checked).
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PACKAGE_PLAIN, packaged, resourcesOfType } from '../support/package.ts';

const require = createRequire(import.meta.url);
const budgetModule = require('../../config/budget.cjs') as { budgetFor(total: number): any };
/** The lookup's queue limit (functions/lookup.ts MAX_QUEUE_MS): a longer wait for the pacer is a 429. */
const LOOKUP_MAX_QUEUE_SECONDS = 2;
const REQUEST_ID = 'c0ffee00-1234-4abc-8def-0123456789ab';
const ERROR_MESSAGE = 'Forbidden';

/** The error shape of the product ({"error":{"code","message","requestId"}}) and the code each answer gives. */
const EXPECTED: Record<string, { status?: string; code: string; retryAfter?: boolean }> = {
  INVALID_API_KEY: { status: '403', code: 'AuthFailure' },
  MISSING_AUTHENTICATION_TOKEN: { status: '403', code: 'AuthFailure' },
  THROTTLED: { status: '429', code: 'RequestLimitExceeded', retryAfter: true },
  INTEGRATION_FAILURE: { status: '429', code: 'RequestLimitExceeded', retryAfter: true },
  QUOTA_EXCEEDED: { status: '429', code: 'LimitExceeded', retryAfter: true },
  // No status: they keep the status of the response type they stand in for.
  DEFAULT_4XX: { code: 'InvalidParameter' },
  DEFAULT_5XX: { code: 'InternalError' },
};

/** A gateway response's template as API Gateway fills it in ($context.error.messageString comes quoted). */
function render(template: string): string {
  return template
    .replaceAll('$context.requestId', REQUEST_ID)
    .replaceAll('$context.error.messageString', JSON.stringify(ERROR_MESSAGE));
}

let template: any;
beforeAll(async () => {
  template = (await packaged(inject('stack').packages.plain)).template;
});

function gatewayResponses(): Map<string, { id: string; properties: any }> {
  return new Map(
    resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse').map(([id, r]) => [
      r.Properties.ResponseType as string,
      { id, properties: r.Properties },
    ]),
  );
}

function lambdaFunctions(): any[] {
  return resourcesOfType(template, 'AWS::Lambda::Function').map(([, r]) => r.Properties);
}

function lookupFunction(): any {
  return lambdaFunctions().find((f) => String(f.FunctionName).endsWith('-lookup'));
}

function usagePlanThrottle(): { RateLimit: number; BurstLimit: number } {
  const plans = resourcesOfType(template, 'AWS::ApiGateway::UsagePlan');
  expect(plans).toHaveLength(1);
  return plans[0]?.[1].Properties.Throttle;
}

describe('gateway responses: what API Gateway answers by itself', () => {
  it('covers a missing or wrong key, the throttle, a quota and every other 4XX and 5XX, on the API', () => {
    const responses = gatewayResponses();
    expect([...responses.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [type, { properties }] of responses) {
      expect(properties.RestApiId, type).toEqual({ Ref: 'ApiGatewayRestApi' });
      expect(properties.StatusCode, type).toBe(EXPECTED[type]?.status);
    }
    expect(template.Resources.ApiGatewayRestApi?.Type).toBe('AWS::ApiGateway::RestApi');
  });

  it('answers in the API error shape, as JSON, with API Gateway’s request id', () => {
    for (const [type, { properties }] of gatewayResponses()) {
      expect(Object.keys(properties.ResponseTemplates), type).toEqual(['application/json']);
      const text = render(properties.ResponseTemplates['application/json']);
      expect(text, `${type}: a $context variable left unrendered`).not.toContain('$');
      const body = JSON.parse(text);
      expect(Object.keys(body), type).toEqual(['error']);
      expect(Object.keys(body.error).sort(), type).toEqual(['code', 'message', 'requestId']);
      expect(body.error.code, type).toBe(EXPECTED[type]?.code);
      expect(typeof body.error.message, type).toBe('string');
      expect(body.error.message.length, type).toBeGreaterThan(0);
      expect(body.error.requestId, type).toBe(REQUEST_ID);
    }
  });

  it('sends Retry-After with every 429: the wait for the usage plan’s next token when throttled', () => {
    const throttle = usagePlanThrottle();
    for (const [type, { properties }] of gatewayResponses()) {
      const headers: Record<string, string> = properties.ResponseParameters ?? {};
      // Static header values are quoted; no request value is echoed back.
      for (const [name, value] of Object.entries(headers)) {
        expect(name, type).toMatch(/^gatewayresponse\.header\.[A-Za-z-]+$/);
        expect(value, `${type} ${name}`).toMatch(/^'[^']*'$/);
      }
      expect(headers['gatewayresponse.header.Cache-Control'], type).toBe("'no-store'");
      const retryAfter = headers['gatewayresponse.header.Retry-After'];
      if (!EXPECTED[type]?.retryAfter) {
        expect(retryAfter, type).toBeUndefined();
        continue;
      }
      const seconds = Number(retryAfter?.slice(1, -1));
      expect(Number.isInteger(seconds) && seconds >= 1, `${type} Retry-After ${retryAfter}`).toBe(true);
      if (type === 'THROTTLED') expect(seconds).toBe(Math.max(1, Math.ceil(1 / throttle.RateLimit)));
    }
  });

  it('exist before the API’s deployment is made, so the first deploy already answers with them', () => {
    const deployments = resourcesOfType(template, 'AWS::ApiGateway::Deployment');
    expect(deployments).toHaveLength(1);
    const dependsOn = (id: string): string[] => [template.Resources[id]?.DependsOn ?? []].flat();
    const reached = new Set<string>();
    const walk = (id: string): void => {
      for (const next of dependsOn(id)) {
        if (reached.has(next)) continue;
        reached.add(next);
        walk(next);
      }
    };
    walk(deployments[0]?.[0] as string);
    for (const [type, { id }] of gatewayResponses()) expect(reached.has(id), `${type} (${id})`).toBe(true);
  });
});

describe('the concurrency and rate arithmetic (docs/edge.md)', () => {
  const total = Number(PACKAGE_PLAIN.TENCENT_RPS_TOTAL);

  it('keeps every instance that can run within TENCENT_RPS_TOTAL', () => {
    const paced = lambdaFunctions().filter((f) => f.Environment?.Variables?.TENCENT_RPS_BUDGET !== undefined);
    expect(paced.map((f) => String(f.FunctionName).split('-').at(-1)).sort()).toEqual(['export', 'lookup']);
    let sum = 0;
    for (const f of paced) {
      expect(
        Number.isInteger(f.ReservedConcurrentExecutions) && f.ReservedConcurrentExecutions > 0,
        f.FunctionName,
      ).toBe(true);
      sum += f.ReservedConcurrentExecutions * Number(f.Environment.Variables.TENCENT_RPS_BUDGET);
    }
    expect(sum).toBeLessThanOrEqual(total + 1e-9);
  });

  it('throttles at the lookup’s share of Tencent’s rate, and answers a Lambda throttle (too many slow lookups at once) 429 with Retry-After, never a 5xx', () => {
    const lookup = lookupFunction();
    const { RateLimit: rate, BurstLimit: burst } = usagePlanThrottle();
    const share = lookup.ReservedConcurrentExecutions * Number(lookup.Environment.Variables.TENCENT_RPS_BUDGET);
    expect(rate).toBeCloseTo(share, 6);
    expect(Number.isInteger(burst) && burst >= 1 && burst <= Math.max(1, share)).toBe(true);
    const failure = gatewayResponses().get('INTEGRATION_FAILURE');
    expect(failure?.properties.StatusCode).toBe('429');
    expect(failure?.properties.ResponseParameters['gatewayresponse.header.Retry-After']).toMatch(/^'\d+'$/);
    expect(
      JSON.parse(failure?.properties.ResponseTemplates['application/json'].replace('$context.requestId', 'r-1')).error
        .code,
    ).toBe('RequestLimitExceeded');
    expect({ reserved: lookup.ReservedConcurrentExecutions, rate, burst }).toEqual({ reserved: 2, rate: 8, burst: 8 });
  });

  it('paces each lookup instance so that a warm instance’s next lookup waits no longer than its queue limit', () => {
    const perInstance = Number(lookupFunction().Environment.Variables.TENCENT_RPS_BUDGET);
    expect(1 / perInstance).toBeLessThanOrEqual(LOOKUP_MAX_QUEUE_SECONDS);
    expect(perInstance).toBe(4);
  });

  it('holds for every TENCENT_RPS_TOTAL config/budget.cjs accepts', () => {
    for (const t of [0.5, 1, 2.5, 5, 7.5, 10, 12.5, 15, 17, 19, 19.9, 20]) {
      const { lookup, export: exporter } = budgetModule.budgetFor(t);
      expect(
        lookup.reservedConcurrency * lookup.perInstance + exporter.reservedConcurrency * exporter.perInstance,
        `total ${t}`,
      ).toBeLessThanOrEqual(t + 1e-9);
      const { rateLimit, burstLimit, retryAfterSeconds } = lookup.edge;
      expect(rateLimit, `total ${t}`).toBeLessThanOrEqual(lookup.share + 1e-9);
      expect(burstLimit, `total ${t}`).toBeGreaterThanOrEqual(1);
      expect(retryAfterSeconds * rateLimit, `total ${t}`).toBeGreaterThanOrEqual(1);
    }
  });
});
