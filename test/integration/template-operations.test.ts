/**
 * Running in production without surprises, read from the packaged templates: X-Ray tracing, the API's
 * access logs (path masked), the export workflows' logs, log retention, the lake's lifecycle rules and
 * the optional KMS key. The default packages come from the test run's global setup; this file packages
 * once more with KMS_KEY_ARN (and a retention of its own), and once with a key that is not an ARN.
 *
 * API Gateway's stage settings (tracing, access log format) are not in the template: the framework
 * applies them to the stage after the stack deploys, from the packaged serverless-state.json, so they
 * are read there.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  PACKAGE_WITH_SECRET,
  packageService,
  packaged,
  resourcesOfType,
  type Packaged,
  resolveIf,
} from '../support/package.ts';

const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const EXPORT_MACHINES = ['sms-status-dev-export', 'sms-status-dev-export-distributed'];

let plain: Packaged;
let withSecret: Packaged;
let withKms: Packaged;
let plainState: any;
let aliasFailure: string;
beforeAll(async () => {
  plain = await packaged(inject('stack').packages.plain);
  withSecret = await packaged(inject('stack').packages.withSecret);
  plainState = JSON.parse(await readFile(join(plain.dir, 'serverless-state.json'), 'utf8'));
  // One at a time: concurrent `serverless package` runs in one project trip each other.
  withKms = await packageService({
    ...PACKAGE_WITH_SECRET,
    KMS_KEY_ARN,
    EXPORT_RETENTION_DAYS: '90',
    EXPORT_NONCURRENT_DAYS: '5',
  });
  aliasFailure = await packageService({ ...PACKAGE_WITH_SECRET, KMS_KEY_ARN: 'alias/sms-status' }).then(
    async (p) => {
      await rm(p.dir, { recursive: true, force: true });
      return '';
    },
    (error: { stdout?: string; stderr?: string; message: string }) =>
      `${error.stdout ?? ''}\n${error.stderr ?? ''}\n${error.message}`,
  );
}, 180_000);

afterAll(async () => {
  if (withKms) await rm(withKms.dir, { recursive: true, force: true });
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const actions = (s: Statement): string[] => [s.Action].flat();

/** A role's inline statements. */
function roleStatements(template: any, role: string): Statement[] {
  return (template.Resources[role].Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
}

/** Every role's statements, by role. */
function allStatements(template: any): Array<Statement & { role: string }> {
  return resourcesOfType(template, 'AWS::IAM::Role').flatMap(([role]) =>
    roleStatements(template, role).map((s) => ({ ...s, role })),
  );
}

/** The service's own functions (not the framework's custom resource for API Gateway's logging role). */
function serviceFunctions(template: any): Array<[string, any]> {
  return resourcesOfType(template, 'AWS::Lambda::Function').filter(([, f]) =>
    String(f.Properties.Handler).startsWith('functions/'),
  );
}

/** The role a function runs as. */
function roleOf(fn: any): string {
  return fn.Properties.Role['Fn::GetAtt'][0];
}

function exportMachines(template: any): Array<[string, any]> {
  return resourcesOfType(template, 'AWS::StepFunctions::StateMachine').filter(([, r]) =>
    EXPORT_MACHINES.includes(r.Properties.StateMachineName),
  );
}

function bucketEncryption(template: any): any {
  return resolveIf(template, template.Resources.ExportBucket.Properties.BucketEncryption)
    .ServerSideEncryptionConfiguration[0];
}

function lifecycleRule(template: any, id: string): any {
  return template.Resources.ExportBucket.Properties.LifecycleConfiguration.Rules.find((r: any) => r.Id === id);
}

describe('tracing', () => {
  it('traces every function actively', () => {
    const functions = serviceFunctions(plain.template);
    expect(functions.map(([, f]) => f.Properties.FunctionName).sort()).toEqual(
      ['callback', 'export', 'inbox', 'lookup'].map((name) => `sms-status-dev-${name}`),
    );
    for (const [id, f] of functions) expect(f.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
  });

  it('lets every function role send its segments to X-Ray', () => {
    for (const [id, f] of serviceFunctions(plain.template)) {
      const granted = roleStatements(plain.template, roleOf(f)).flatMap(actions);
      expect(granted, `${id} (${roleOf(f)})`).toEqual(
        expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']),
      );
    }
  });

  it('traces the API stage', () => {
    // Applied by the framework to the stage after deploy; there is no Stage resource to carry it.
    expect(plainState.service.provider.tracing).toEqual({ lambda: true, apiGateway: true });
    expect(resourcesOfType(plain.template, 'AWS::ApiGateway::Stage')).toEqual([]);
  });

  it('traces both export workflows, whose roles may write to X-Ray', () => {
    const machines = exportMachines(plain.template);
    expect(machines).toHaveLength(2);
    for (const [id, m] of machines) {
      expect(m.Properties.TracingConfiguration, id).toEqual({ Enabled: true });
      const role = m.Properties.RoleArn['Fn::GetAtt'][0];
      expect(roleStatements(plain.template, role).flatMap(actions), id).toContain('xray:PutTraceSegments');
    }
  });
});

describe('logs', () => {
  const restApi = () => plainState.service.provider.logs.restApi;
  const format = () => JSON.parse(restApi().format) as Record<string, string>;

  it('writes one JSON access log line a request, with the resource template, never the path', () => {
    const line = format();
    expect(line).toMatchObject({
      requestId: '$context.requestId',
      resourcePath: '$context.resourcePath',
      status: '$context.status',
      latency: '$context.responseLatency',
      integrationLatency: '$context.integrationLatency',
      userAgent: '$context.identity.userAgent',
      ip: '$context.identity.sourceIp',
    });
    expect(restApi().format).not.toMatch(/\$context\.path\b/);
    // Of the caller, only its IP and user agent: never its API key, account, user or Cognito identity.
    const identity = restApi().format.match(/\$context\.identity\.\w+/g);
    expect(new Set(identity)).toEqual(new Set(['$context.identity.sourceIp', '$context.identity.userAgent']));
    expect(restApi().format).not.toContain('apiKey');
  });

  it('keeps execution logs (full paths and bodies) off, and the access log group expiring', () => {
    expect(restApi()).toMatchObject({ accessLogging: true, executionLogging: false, fullExecutionData: false });
    const group = plain.template.Resources.ApiGatewayLogGroup;
    expect(group.Properties.LogGroupName).toBe('/aws/api-gateway/sms-status-dev');
    expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('gives every function log group a retention', () => {
    const groups = resourcesOfType(plain.template, 'AWS::Logs::LogGroup').map(([, g]) => g.Properties);
    for (const [, f] of serviceFunctions(plain.template)) {
      const group = groups.find((g) => g.LogGroupName === `/aws/lambda/${f.Properties.FunctionName}`);
      expect(group?.RetentionInDays, f.Properties.FunctionName).toBe(30);
    }
  });

  it('logs both export workflows at ALL, without execution data, to a log group that expires', () => {
    for (const [id, m] of exportMachines(plain.template)) {
      expect(m.Properties.LoggingConfiguration, id).toEqual({
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [
          { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['ExportWorkflowLogGroup', 'Arn'] } } },
        ],
      });
    }
    const group = plain.template.Resources.ExportWorkflowLogGroup;
    expect(group.Type).toBe('AWS::Logs::LogGroup');
    expect(group.Properties.LogGroupName).toBe('/aws/vendedlogs/states/sms-status-dev-export');
    expect(group.Properties.RetentionInDays).toBe(30);
  });
});

describe('lake retention', () => {
  it("expires day objects after EXPORT_RETENTION_DAYS (400), the lookups' own reach", () => {
    const rule = lifecycleRule(withSecret.template, 'expire-statuses');
    expect(rule).toMatchObject({ Status: 'Enabled', Prefix: 'receipts/statuses/' });
    expect(Number(rule.ExpirationInDays)).toBe(400);
    const lookup = serviceFunctions(withSecret.template).find(
      ([, f]) => f.Properties.FunctionName === 'sms-status-dev-lookup',
    )?.[1];
    expect(lookup.Properties.Environment.Variables.EXPORT_RETENTION_DAYS).toBe(rule.ExpirationInDays);
  });

  it('keeps replaced versions 3 days, then clears the delete markers left', () => {
    const rule = lifecycleRule(withSecret.template, 'expire-old-versions');
    expect(rule.Status).toBe('Enabled');
    expect(rule.Prefix).toBeUndefined();
    expect(Number(rule.NoncurrentVersionExpiration.NoncurrentDays)).toBe(3);
    expect(rule.ExpiredObjectDeleteMarker).toBe(true);
  });

  it('follows EXPORT_RETENTION_DAYS and EXPORT_NONCURRENT_DAYS', () => {
    expect(Number(lifecycleRule(withKms.template, 'expire-statuses').ExpirationInDays)).toBe(90);
    expect(
      Number(lifecycleRule(withKms.template, 'expire-old-versions').NoncurrentVersionExpiration.NoncurrentDays),
    ).toBe(5);
    const lookup = serviceFunctions(withKms.template).find(
      ([, f]) => f.Properties.FunctionName === 'sms-status-dev-lookup',
    )?.[1];
    expect(lookup.Properties.Environment.Variables.EXPORT_RETENTION_DAYS).toBe('90');
  });

  it('aborts incomplete uploads after a day, keeps quarantine as long as the lake, and never expires _state/ or _inbox/', () => {
    const rules = withSecret.template.Resources.ExportBucket.Properties.LifecycleConfiguration.Rules;
    expect(lifecycleRule(withSecret.template, 'abort-incomplete-uploads').AbortIncompleteMultipartUpload).toEqual({
      DaysAfterInitiation: 1,
    });
    const quarantine = lifecycleRule(withSecret.template, 'expire-quarantine');
    expect(quarantine.Prefix).toBe('receipts/_quarantine/');
    expect(Number(quarantine.ExpirationInDays)).toBe(
      Number(lifecycleRule(withSecret.template, 'expire-statuses').ExpirationInDays),
    );
    // Rules that expire current objects all name a folder, and none of them is the job state or the inbox.
    const expiring = rules.filter((r: any) => r.ExpirationInDays !== undefined);
    for (const r of expiring) expect(r.Prefix, r.Id).toMatch(/^receipts\/(statuses|_runs|_quarantine|_athena)\/$/);
    for (const r of rules) expect(r.Status, r.Id).toBe('Enabled');
  });
});

describe('KMS', () => {
  it('encrypts the lake with SSE-S3 and grants no KMS action when no key is given', () => {
    for (const p of [plain, withSecret]) {
      expect(bucketEncryption(p.template)).toEqual({
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BucketKeyEnabled: true,
      });
      expect(
        allStatements(p.template)
          .flatMap(actions)
          .filter((a) => a.startsWith('kms:')),
      ).toEqual([]);
    }
  });

  it('encrypts the lake with the key of KMS_KEY_ARN, with a bucket key', () => {
    expect(bucketEncryption(withKms.template)).toEqual({
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KMS_KEY_ARN },
      BucketKeyEnabled: true,
    });
  });

  // Here rather than in template-athena.test.ts: this file already packages with a key.
  it("encrypts Athena's query results with the same key (the workgroup's enforced result configuration)", () => {
    const config = resolveIf(
      withKms.template,
      withKms.template.Resources.ReportWorkGroup.Properties.WorkGroupConfiguration,
    );
    expect(config.EnforceWorkGroupConfiguration).toBe(true);
    expect(config.ResultConfiguration).toEqual({
      OutputLocation: 's3://acme-sms-exports/receipts/_athena/',
      EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: KMS_KEY_ARN },
    });
  });

  it('lets each role use the key as far as it reads or writes the lake and the secret, and no further', () => {
    const kms = (role: string) =>
      roleStatements(withKms.template, role)
        .filter((s) => actions(s).some((a) => a.startsWith('kms:')))
        .map((s) => ({ actions: actions(s).sort(), resource: s.Resource }));
    const readWrite = [{ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: KMS_KEY_ARN }];
    const read = [{ actions: ['kms:Decrypt'], resource: KMS_KEY_ARN }];
    // The export (the default role), the callback and the drain write the lake.
    expect(kms('IamRoleLambdaExecution')).toEqual(readWrite);
    expect(kms('CallbackRole')).toEqual(readWrite);
    expect(kms('InboxRole')).toEqual(readWrite);
    // The lookup reads day objects and the Tencent secret.
    expect(kms('LookupRole')).toEqual(read);
    // The Distributed Map reads its shard list from the lake.
    const distributed = exportMachines(withKms.template).find(
      ([, m]) => m.Properties.StateMachineName === 'sms-status-dev-export-distributed',
    )?.[1];
    expect(kms(distributed.Properties.RoleArn['Fn::GetAtt'][0])).toEqual(read);
    // Every function's role is one of those.
    for (const [, f] of serviceFunctions(withKms.template)) expect(kms(roleOf(f)).length, roleOf(f)).toBe(1);
    // Nowhere else, and only on the key.
    const elsewhere = allStatements(withKms.template).filter((s) => actions(s).some((a) => a.startsWith('kms:')));
    expect(elsewhere).toHaveLength(5);
    for (const s of elsewhere) expect(s.Resource, s.role).toBe(KMS_KEY_ARN);
  });

  it('refuses a KMS_KEY_ARN that is not a key ARN (IAM would match no request), naming the variable', () => {
    expect(aliasFailure).toContain('KMS_KEY_ARN');
  });
});
