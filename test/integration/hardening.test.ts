import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PACKAGE_WITH_SECRET, packaged, resourcesOfType, type Packaged, resolveIf } from '../support/package.ts';

const SECRET_ARN = PACKAGE_WITH_SECRET.TENCENTCLOUD_SECRET_ARN;

let plain: Packaged;
let withSecret: Packaged;
let china: Packaged;
beforeAll(async () => {
  plain = await packaged(inject('stack').packages.plain);
  withSecret = await packaged(inject('stack').packages.withSecret);
  china = await packaged(inject('stack').packages.china);
});

/** An S3 ARN as the template builds it, in the stack's partition. */
const s3Arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', resource]] });

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of every IAM role and policy in the template, with where it came from. */
function statements(template: any): Array<Statement & { role: string }> {
  const roles = resourcesOfType(template, 'AWS::IAM::Role').flatMap(([role, r]) =>
    (r.Properties.Policies ?? []).flatMap((p: any) =>
      p.PolicyDocument.Statement.map((s: Statement) => ({ ...s, role })),
    ),
  );
  const policies = resourcesOfType(template, 'AWS::IAM::Policy').flatMap(([role, r]) =>
    r.Properties.PolicyDocument.Statement.map((s: Statement) => ({ ...s, role })),
  );
  return [...roles, ...policies];
}

const actions = (s: Statement): string[] => [s.Action].flat();
const resources = (s: Statement): unknown[] => [s.Resource].flat();

describe('the export bucket', () => {
  it('is encrypted, blocks every kind of public access, and owns its objects', () => {
    const bucket = withSecret.template.Resources.ExportBucket;
    expect(bucket.Type).toBe('AWS::S3::Bucket');
    const p = bucket.Properties;
    expect(p.BucketName).toBe('acme-sms-exports');
    expect(
      resolveIf(withSecret.template, p.BucketEncryption).ServerSideEncryptionConfiguration[0]
        .ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toMatch(/AES256|aws:kms/);
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.OwnershipControls.Rules[0].ObjectOwnership).toBe('BucketOwnerEnforced');
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('denies every request that does not use TLS', () => {
    const policy = withSecret.template.Resources.ExportBucketPolicy;
    expect(policy.Properties.Bucket).toEqual({ Ref: 'ExportBucket' });
    const deny = policy.Properties.PolicyDocument.Statement.find((s: any) => s.Effect === 'Deny');
    expect(deny.Principal).toBe('*');
    expect(deny.Action).toBe('s3:*');
    expect(deny.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    expect(deny.Resource).toHaveLength(2);
  });
});

describe('IAM', () => {
  it.each([
    ['without a secret', () => plain],
    ['with a secret', () => withSecret],
  ])('grants no S3, Secrets Manager, SSM or KMS action on Resource "*" (%s)', (_, packaged) => {
    for (const s of statements(packaged().template)) {
      const sensitive = actions(s).some((a) => /^(s3|secretsmanager|ssm|kms):/.test(a));
      if (sensitive) expect(resources(s), `${s.role}: ${actions(s).join(',')}`).not.toContain('*');
      for (const r of resources(s))
        if (sensitive) expect(JSON.stringify(r)).not.toMatch(/:s3:::\*|:s3:::","\*"|:\*"?$/);
    }
  });

  it("gives the lookup its own role: its log group, X-Ray, the secret, and reads of the lake's statuses/ only", () => {
    const lookup = resourcesOfType(withSecret.template, 'AWS::Lambda::Function').find(
      ([, r]) => r.Properties.FunctionName === 'sms-status-dev-lookup',
    )?.[1];
    expect(lookup.Properties.Role).toEqual({ 'Fn::GetAtt': ['LookupRole', 'Arn'] });
    const own = statements(withSecret.template).filter((s) => s.role === 'LookupRole');
    expect(own.flatMap(actions).sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const read = own.find((s) => actions(s).includes('s3:GetObject'));
    expect(read?.Resource).toEqual(s3Arn('acme-sms-exports/receipts/statuses/*'));
    expect(own.find((s) => actions(s).includes('secretsmanager:GetSecretValue'))?.Resource).toBe(SECRET_ARN);
  });

  it('lets the export write only under its prefix, read only manifests, and read the secret only', () => {
    const own = statements(withSecret.template).filter((s) => s.role === 'IamRoleLambdaExecution');
    const put = own.find((s) => actions(s).includes('s3:PutObject'));
    expect(put?.Resource).toEqual(s3Arn('acme-sms-exports/receipts/*'));
    const reads = own.filter((s) => actions(s).includes('s3:GetObject')).map((s) => s.Resource);
    expect(reads).toEqual([s3Arn('acme-sms-exports/receipts/*'), s3Arn('acme-sms-exports/manifests/*')]);
    const list = own.find((s) => actions(s).includes('s3:ListBucket'));
    expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': ['receipts/*'] } });
    expect(own.filter((s) => actions(s).includes('secretsmanager:GetSecretValue')).map((s) => s.Resource)).toEqual([
      SECRET_ARN,
    ]);
  });

  it('grants no Secrets Manager access at all when no secret is configured', () => {
    expect(statements(plain.template).flatMap(actions)).not.toContain('secretsmanager:GetSecretValue');
  });

  it('passes the secret ARN to every function, and no Tencent key in any environment', () => {
    // The service's functions: not the framework's custom resource that sets API Gateway's logging role.
    const functions = resourcesOfType(withSecret.template, 'AWS::Lambda::Function').filter(([, f]) =>
      String(f.Properties.Handler).startsWith('functions/'),
    );
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const [, f] of functions) {
      const env = f.Properties.Environment?.Variables ?? {};
      expect(env.TENCENTCLOUD_SECRET_ARN).toBe(SECRET_ARN);
      expect(Object.keys(env)).not.toContain('TENCENTCLOUD_SECRET_KEY');
    }
  });
});

describe('any partition', () => {
  it('packages for aws-cn (cn-north-1) with no arn:aws: literal anywhere in the template', () => {
    const text = JSON.stringify(china.template);
    expect(text).not.toContain('arn:aws:');
    // The Distributed Map's item reader is a Step Functions resource of the partition deployed to.
    expect(text).toContain('arn:aws-cn:states:::s3:getObject');
  });

  it('reads a manifest prefix given without its trailing slash as a folder, never as a prefix of siblings', () => {
    const reads = statements(china.template)
      .filter((s) => s.role === 'IamRoleLambdaExecution' && actions(s).includes('s3:GetObject'))
      .map((s) => s.Resource);
    expect(reads).toContainEqual(s3Arn('acme-lists/sms/*'));
    expect(JSON.stringify(reads)).not.toContain('acme-lists/sms*');
  });

  it('puts no phone number in the template or any Lambda environment, even with EXPORT_PHONE_NUMBERS set', () => {
    const text = JSON.stringify(china.template);
    expect(text).not.toContain('8613711112222');
    expect(text).not.toContain('14155550123');
    for (const [, f] of resourcesOfType(china.template, 'AWS::Lambda::Function')) {
      expect(Object.keys(f.Properties.Environment?.Variables ?? {})).not.toContain('EXPORT_PHONE_NUMBERS');
    }
  });
});
