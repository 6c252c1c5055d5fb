/**
 * The packaged stack as AWS's rule packs see it (issue 27, docs/edge.md "Security posture"): `npm run nag`'s
 * package (stage prod, secret, alarm mail, KMS key) passes them with every finding accepted and no
 * acceptance stale; every queue refuses plain HTTP and has a dead-letter queue; the alarm topic refuses
 * plain HTTP and its mail redrives; the workflows log ALL without execution data and are traced; the lake
 * logs its server access; the inbox's failures have a destination; and the lookup authenticates by API key
 * or, with LOOKUP_AUTH=iam, by SigV4 alone. Three packages: the nag's, the nag's with LOOKUP_AUTH=iam
 * (and no alarm mail, access logs kept 30 days), and one with LAKE_ACCESS_LOGS=false.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judge, readAccepted } from '../../scripts/nag/accepted.ts';
import { findingsOf } from '../../scripts/nag/findings.ts';
import { NAG_SETTINGS, NAG_STAGE, nagEnvironment } from '../../scripts/nag/package.ts';
import { packageService, resourcesOfType, type Packaged } from '../support/package.ts';
import { RESOURCELESS_ACTIONS, wildcardStatements } from '../support/iam-wildcards.ts';

const GET = 'ApiGatewayMethodV1PhoneDashnumbersPhonenumberVarStatusesGet';
const POST = 'ApiGatewayMethodV1CallbacksTencentTokenVarPost';

let nag: Packaged;
let iam: Packaged;
let noAccessLogs: Packaged;
beforeAll(async () => {
  const stage = ['--stage', NAG_STAGE];
  nag = await packageService(nagEnvironment(), stage);
  const { ALARM_EMAIL: _mail, ...withoutMail } = NAG_SETTINGS;
  iam = await packageService(
    nagEnvironment({ ...withoutMail, LOOKUP_AUTH: 'iam', ACCESS_LOG_RETENTION_DAYS: '30' }),
    stage,
  );
  noAccessLogs = await packageService(nagEnvironment({ ...NAG_SETTINGS, LAKE_ACCESS_LOGS: 'false' }), stage);
}, 240_000);
afterAll(async () => {
  for (const p of [nag, iam, noAccessLogs]) if (p) await rm(p.dir, { recursive: true, force: true });
});

const resources = (p: Packaged) => p.template.Resources as Record<string, any>;
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('npm run nag over the packaged stack', () => {
  it('leaves no finding open and no acceptance stale', async () => {
    const judgement = judge(findingsOf(`${nag.dir}/cloudformation-template-update-stack.json`), await readAccepted());
    expect(judgement.open).toEqual([]);
    expect(judgement.stale).toEqual([]);
    expect(judgement.accepted.length).toBeGreaterThan(0);
  }, 120_000);

  it('has no condition left for CloudFormation to find always true or false (W8003, W9053)', () => {
    for (const p of [nag, iam, noAccessLogs]) {
      expect(p.template.Conditions ?? {}).toEqual({});
      expect(JSON.stringify(p.template)).not.toContain('Fn::If');
    }
  });

  it('accepts a Resource::* only on roles whose every wildcard statement takes no resource', async () => {
    const roles = (await readAccepted())
      .filter((a) => a.rule === 'AwsSolutions-IAM5[Resource::*]')
      .map((a) => a.resource);
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      expect(resources(nag)[role]?.Type, role).toBe('AWS::IAM::Role');
      const statements = wildcardStatements(resources(nag)[role]);
      expect(statements.length, role).toBeGreaterThan(0);
      for (const statement of statements) {
        for (const action of [statement.Action].flat())
          expect(RESOURCELESS_ACTIONS, `${role}: ${action}`).toContain(action);
      }
    }
    // And no other role of the stack has one.
    for (const [id, role] of resourcesOfType(nag.template, 'AWS::IAM::Role')) {
      if (!roles.includes(id)) expect(wildcardStatements(role), id).toEqual([]);
    }
  });
});

describe('queues and the alarm topic', () => {
  it('gives every SQS queue a policy refusing plain HTTP, and a dead-letter queue unless it is one', () => {
    const all = resources(nag);
    const queues = resourcesOfType(nag.template, 'AWS::SQS::Queue').map(([id]) => id);
    expect(queues).toEqual(
      expect.arrayContaining(['ExportFailuresQueue', 'ExportFailuresQueueDeadLetter', 'AlarmEmailDeadLetterQueue']),
    );
    const policies = resourcesOfType(nag.template, 'AWS::SQS::QueuePolicy').map(([, p]) => p.Properties);
    const targets = [
      ...resourcesOfType(nag.template, 'AWS::SQS::Queue'),
      ...resourcesOfType(nag.template, 'AWS::SNS::Subscription'),
    ]
      .map(([, r]) => JSON.stringify(r.Properties.RedrivePolicy?.deadLetterTargetArn))
      .filter(Boolean);
    for (const id of queues) {
      const policy = policies.find((p) => p.Queues.some((q: any) => q.Ref === id));
      expect(policy, id).toBeDefined();
      expect(policy.PolicyDocument.Statement, id).toContainEqual({
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:*',
        Resource: expect.arrayContaining([arnOf(id)]),
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
      expect(all[id].Properties.SqsManagedSseEnabled, id).toBe(true);
      const redrives = all[id].Properties.RedrivePolicy?.deadLetterTargetArn !== undefined;
      const isDeadLetter = targets.includes(JSON.stringify(arnOf(id)));
      expect(redrives !== isDeadLetter, `${id}: redrives to a DLQ, or is one (not both)`).toBe(true);
    }
  });

  it('refuses publishing to the alarm topic over plain HTTP, lets CloudWatch publish, and redrives the mail', () => {
    const all = resources(nag);
    const policy = resourcesOfType(nag.template, 'AWS::SNS::TopicPolicy')[0]?.[1].Properties;
    expect(policy.Topics).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
      }),
    );
    const subscription = all.AlarmEmailSubscription.Properties;
    expect(subscription.RedrivePolicy).toEqual({ deadLetterTargetArn: arnOf('AlarmEmailDeadLetterQueue') });
    const dlqPolicy = all.AlarmEmailDeadLetterQueuePolicy.Properties.PolicyDocument.Statement;
    expect(dlqPolicy).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: [arnOf('AlarmEmailDeadLetterQueue')],
        Condition: { ArnEquals: { 'aws:SourceArn': { Ref: 'AlarmTopic' } } },
      }),
    );
    for (const [, alarm] of resourcesOfType(nag.template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    }
  });

  it('makes no topic without ALARM_EMAIL, and no alarm names one', () => {
    expect(resourcesOfType(iam.template, 'AWS::SNS::Topic')).toEqual([]);
    expect(resourcesOfType(iam.template, 'AWS::SNS::Subscription')).toEqual([]);
    expect(resources(iam).AlarmEmailDeadLetterQueue).toBeUndefined();
    for (const [id, alarm] of resourcesOfType(iam.template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions, id).toEqual({ Ref: 'AWS::NoValue' });
      expect(alarm.Properties.OKActions, id).toEqual({ Ref: 'AWS::NoValue' });
    }
  });
});

describe('workflows, the lake, the inbox', () => {
  it('logs every state machine at ALL without execution data to a log group with retention, and traces it', () => {
    const machines = resourcesOfType(nag.template, 'AWS::StepFunctions::StateMachine');
    expect(machines.map(([, m]) => m.Properties.StateMachineName).sort()).toEqual([
      'sms-status-prod-export',
      'sms-status-prod-export-distributed',
      'sms-status-prod-lookup-example',
    ]);
    for (const [id, machine] of machines) {
      const { LoggingConfiguration: logging, TracingConfiguration: tracing } = machine.Properties;
      expect(logging.Level, id).toBe('ALL');
      expect(logging.IncludeExecutionData, id).toBe(false);
      const group = logging.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
      expect(resources(nag)[group].Properties.RetentionInDays, id).toBe(30);
      expect(tracing, id).toEqual({ Enabled: true });
    }
  });

  it('writes the lake’s server access logs to a locked-down log bucket kept ACCESS_LOG_RETENTION_DAYS', () => {
    for (const [p, days] of [
      [nag, 90],
      [iam, 30],
    ] as const) {
      const all = resources(p);
      expect(all.ExportBucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({
        Ref: 'LakeAccessLogBucket',
      });
      const bucket = all.LakeAccessLogBucket.Properties;
      expect(Object.values(bucket.PublicAccessBlockConfiguration)).toEqual([true, true, true, true]);
      expect(bucket.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
      expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
        SSEAlgorithm: 'AES256',
      });
      expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
        expect.objectContaining({ Status: 'Enabled', ExpirationInDays: days }),
      );
      const statements = all.LakeAccessLogBucketPolicy.Properties.PolicyDocument.Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      const delivery = statements.find((s: any) => s.Effect === 'Allow');
      expect(delivery.Principal).toEqual({ Service: 'logging.s3.amazonaws.com' });
      expect(delivery.Action).toBe('s3:PutObject');
      expect(JSON.stringify(delivery.Condition.ArnLike)).toContain(':s3:::sms-status-prod-exports');
    }
  });

  it('makes no log bucket with LAKE_ACCESS_LOGS=false', () => {
    expect(resources(noAccessLogs).LakeAccessLogBucket).toBeUndefined();
    expect(resources(noAccessLogs).ExportBucket.Properties.LoggingConfiguration).toEqual({ Ref: 'AWS::NoValue' });
  });

  it('sends the inbox’s failed asynchronous invocations to the failures queue, which its role may send to', () => {
    const config = resources(nag).InboxLambdaEvConf.Properties;
    expect(config.DestinationConfig.OnFailure.Destination).toEqual(arnOf('ExportFailuresQueue'));
    const statements = resources(nag).InboxRole.Properties.Policies[0].PolicyDocument.Statement;
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: arnOf('ExportFailuresQueue'),
    });
  });
});

describe('LOOKUP_AUTH', () => {
  it('api-key (the default): the GET requires the key, throttled by its usage plan; no IAM auth', () => {
    const get = resources(nag)[GET].Properties;
    expect(get.ApiKeyRequired).toBe(true);
    expect(get.AuthorizationType).toBe('NONE');
    expect(resourcesOfType(nag.template, 'AWS::ApiGateway::ApiKey')).toHaveLength(1);
    const plans = resourcesOfType(nag.template, 'AWS::ApiGateway::UsagePlan');
    expect(plans).toHaveLength(1);
    expect(plans[0]?.[1].Properties.Throttle.RateLimit).toBeGreaterThan(0);
  });

  it('iam: the GET takes SigV4 (AWS_IAM) and no key; no API key, usage plan or key link; the callback keeps its token', () => {
    const get = resources(iam)[GET].Properties;
    expect(get.AuthorizationType).toBe('AWS_IAM');
    expect(get.ApiKeyRequired ?? false).toBe(false);
    for (const type of ['ApiKey', 'UsagePlan', 'UsagePlanKey']) {
      expect(resourcesOfType(iam.template, `AWS::ApiGateway::${type}`), type).toEqual([]);
    }
    const post = resources(iam)[POST].Properties;
    expect(post.AuthorizationType).toBe('NONE');
    expect(post.ApiKeyRequired ?? false).toBe(false);
  });

  it('refuses any other value, naming the variable', async () => {
    const error = await packageService(nagEnvironment({ ...NAG_SETTINGS, LOOKUP_AUTH: 'cognito' }), [
      '--stage',
      NAG_STAGE,
    ]).then(
      () => undefined,
      (e: { stdout?: string; stderr?: string }) => `${e.stdout}${e.stderr}`,
    );
    expect(error).toContain('LOOKUP_AUTH must be api-key or iam');
  }, 120_000);
});
