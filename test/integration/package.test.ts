import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packaged as loadPackage, resourcesOfType, type Packaged } from '../support/package.ts';

let packaged: Packaged;
beforeAll(async () => {
  packaged = await loadPackage(inject('stack').packages.plain);
});

function lambdaFunctions() {
  return resourcesOfType(packaged.template, 'AWS::Lambda::Function').map(([, r]) => r.Properties);
}

describe('packaged template', () => {
  it('deploys the lookup as sms-status-dev-lookup on nodejs24.x', () => {
    const lookup = lambdaFunctions().find((f) => f.FunctionName === 'sms-status-dev-lookup');
    expect(lookup).toBeDefined();
    expect(lookup.Runtime).toBe('nodejs24.x');
    expect(lookup.Handler).toBe('functions/lookup.handler');
  });

  it('keeps every instance that can run within 20 requests/second in all', () => {
    const functions = lambdaFunctions().filter((f) => f.Environment?.Variables?.TENCENT_RPS_BUDGET !== undefined);
    expect(functions.length).toBeGreaterThan(0);
    let total = 0;
    for (const f of functions) {
      expect(f.ReservedConcurrentExecutions).toBeGreaterThan(0);
      total += f.ReservedConcurrentExecutions * Number(f.Environment.Variables.TENCENT_RPS_BUDGET);
    }
    expect(total).toBeLessThanOrEqual(20);
  });

  it('runs one export instance at a time, so no two merge into the same object at once', () => {
    const exporter = lambdaFunctions().find((f) => f.FunctionName === 'sms-status-dev-export');
    expect(exporter.ReservedConcurrentExecutions).toBe(1);
    expect(exporter.Timeout).toBe(900);
  });

  it('requires an API key and throttles the usage plan within the lookup share', () => {
    const methods = resourcesOfType(packaged.template, 'AWS::ApiGateway::Method').map(([, r]) => r.Properties);
    const get = methods.find((m) => m.HttpMethod === 'GET');
    expect(get.ApiKeyRequired).toBe(true);
    const plan = resourcesOfType(packaged.template, 'AWS::ApiGateway::UsagePlan')[0]?.[1];
    const lookup = lambdaFunctions().find((f) => f.FunctionName === 'sms-status-dev-lookup');
    const share = lookup.ReservedConcurrentExecutions * Number(lookup.Environment.Variables.TENCENT_RPS_BUDGET);
    expect(plan.Properties.Throttle.RateLimit).toBeLessThanOrEqual(share);
    expect(plan.Properties.Throttle.BurstLimit).toBeLessThanOrEqual(share);
    expect(resourcesOfType(packaged.template, 'AWS::ApiGateway::ApiKey')).toHaveLength(1);
  });
});

describe('packaged lookup artifact', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sms-status-artifact-'));
    const zip = await JSZip.loadAsync(await readFile(join(packaged.dir, 'lookup.zip')));
    for (const [name, entry] of Object.entries(zip.files)) {
      // Source maps stay in the zip: loaded here, they would point the test runner at sources it lacks.
      if (entry.dir || name.endsWith('.map')) continue;
      await mkdir(dirname(join(dir, name)), { recursive: true });
      const body = await entry.async('nodebuffer');
      await writeFile(
        join(dir, name),
        name.endsWith('.mjs') ? body.toString('utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n') : body,
      );
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is small and carries no Tencent SDK', async () => {
    expect((await stat(join(packaged.dir, 'lookup.zip'))).size).toBeLessThan(150 * 1024);
    const bundle = await readFile(join(dir, 'functions/lookup.mjs'), 'utf8');
    expect(bundle).not.toContain('tencentcloud-sdk');
    expect(bundle).not.toContain('json-bigint');
  });

  it('rethrows taxonomy errors with their names, as the Lambda runtime reports them', async () => {
    Object.assign(process.env, {
      TENCENT_SMS_ENDPOINT: 'http://127.0.0.1:9',
      TENCENTCLOUD_SECRET_ID: 'AKIDtest',
      TENCENTCLOUD_SECRET_KEY: 'test',
      SMS_SDK_APP_ID: '1400000000',
    });
    const { handler } = await import(pathToFileURL(join(dir, 'functions/lookup.mjs')).href);
    const context = { getRemainingTimeInMillis: () => 10_000 };
    const error = await handler({ phoneNumber: 'not a number' }, context).catch((e: Error) => e);
    expect(error.name).toBe('InvalidInput');
    expect(error.constructor.name).toBe('InvalidInput');
    expect(error.message).toContain('InvalidParameterValue.IncorrectPhoneNumber');
    const down = await handler({ phoneNumber: '+8613711112222' }, context).catch((e: Error) => e);
    expect(down.name).toBe('UpstreamUnavailable');
  });
});
