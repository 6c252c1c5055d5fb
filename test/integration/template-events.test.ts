/**
 * Delivery events in the packaged CloudFormation template (config/events.cjs): the bus the stack makes,
 * events:PutEvents for the writers of the lake on that bus only, the rule routing failed deliveries to
 * an SQS queue with its dead-letter queue and alarms; an existing bus named by EVENT_BUS_NAME used as it
 * is; EVENTS_ENABLED=false removing every piece. The plain package comes from the global setup.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PACKAGE_PLAIN, packageService, packaged, resourcesOfType, type Packaged } from '../support/package.ts';

const EXISTING_BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/acme-sms';
const WRITERS = { IamRoleLambdaExecution: 'export', InboxRole: 'inbox' } as const;
const NOT_WRITERS = ['LookupRole', 'CallbackRole', 'InboxScheduleRole'];
const DLQ = 'DeliveryFailuresQueueDeadLetter';

let plain: Packaged;
let existingBus: Packaged;
let disabled: Packaged;

beforeAll(async () => {
  plain = await packaged(inject('stack').packages.plain);
  [existingBus, disabled] = await Promise.all([
    packageService({ ...PACKAGE_PLAIN, EVENT_BUS_NAME: EXISTING_BUS }),
    packageService({ ...PACKAGE_PLAIN, EVENTS_ENABLED: 'false' }),
  ]);
}, 240_000);

afterAll(async () => {
  for (const p of [existingBus, disabled]) if (p) await rm(p.dir, { recursive: true, force: true });
});

/** Every IAM statement of a role's policies (or of any role, by id). */
function statementsOf(template: any, roleId: string): any[] {
  const role = template.Resources[roleId];
  expect(role?.Type, roleId).toBe('AWS::IAM::Role');
  return role.Properties.Policies.flatMap((p: any) => [p.PolicyDocument.Statement].flat());
}

function grantsOf(template: any, roleId: string, action: string): any[] {
  return statementsOf(template, roleId).filter((s) => [s.Action].flat().some((a: string) => a === action || a === '*'));
}

function environmentOf(template: any, fn: string): Record<string, string> {
  return template.Resources[`${fn}LambdaFunction`].Properties.Environment.Variables;
}

const busArnOf = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${name}`,
});

describe('delivery events in the template (defaults)', () => {
  it('makes the bus sms-status-<stage>, and the writers publish to it', () => {
    const { template } = plain;
    expect(resourcesOfType(template, 'AWS::Events::EventBus')).toEqual([
      ['EventBus', { Type: 'AWS::Events::EventBus', Properties: { Name: 'sms-status-dev' } }],
    ]);
    for (const fn of ['Export', 'Inbox'])
      expect(environmentOf(template, fn)).toMatchObject({ EVENT_BUS_NAME: 'sms-status-dev', EVENTS_ENABLED: 'true' });
    for (const fn of ['Lookup', 'Callback']) expect(environmentOf(template, fn).EVENT_BUS_NAME).toBeUndefined();
  });

  it('grants events:PutEvents on that bus only (never "*"), to the export and the inbox drain only', () => {
    const { template } = plain;
    for (const role of Object.keys(WRITERS)) {
      const grants = grantsOf(template, role, 'events:PutEvents');
      expect(
        grants.map((g) => g.Resource),
        role,
      ).toEqual([busArnOf('sms-status-dev')]);
    }
    for (const role of NOT_WRITERS) expect(grantsOf(template, role, 'events:PutEvents'), role).toEqual([]);
    // No role anywhere may publish events to every bus.
    for (const [id] of resourcesOfType(template, 'AWS::IAM::Role')) {
      for (const s of statementsOf(template, id).filter((s) =>
        [s.Action].flat().some((a: string) => /^events:(PutEvents|\*)$/.test(a)),
      ))
        expect(s.Resource, id).not.toBe('*');
    }
  });

  it('lets the inbox drain keep, list and delete the events it owes under _outbox/', () => {
    const statements = statementsOf(plain.template, 'InboxRole');
    const objects = statements.find((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(objects.Resource)).toContain('sms-status-dev-exports/sms-status/_outbox/*');
    expect([objects.Action].flat()).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:PutObject', 's3:DeleteObject']),
    );
    const listing = statements.find((s) => [s.Action].flat().includes('s3:ListBucket'));
    expect(listing.Condition.StringLike['s3:prefix']).toContain('sms-status/_outbox/*');
  });

  it('routes reportStatus FAIL on the bus to the delivery-failures queue, with a dead-letter queue for what cannot be delivered', () => {
    const r = plain.template.Resources;
    const rule = r.DeliveryFailuresRule.Properties;
    expect(rule.EventBusName).toEqual({ Ref: 'EventBus' });
    expect(rule.EventPattern).toEqual({
      source: ['sms-status'],
      'detail-type': ['SMS Delivery Status Updated'],
      detail: { reportStatus: ['FAIL'] },
    });
    expect(rule.Targets).toHaveLength(1);
    const [target] = rule.Targets;
    expect(target.Arn).toEqual({ 'Fn::GetAtt': ['DeliveryFailuresQueue', 'Arn'] });
    expect(target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': [DLQ, 'Arn'] });
    expect(r.DeliveryFailuresQueue.Properties).toMatchObject({
      QueueName: 'sms-status-dev-delivery-failures',
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [DLQ, 'Arn'] } },
    });
    expect(r[DLQ].Type).toBe('AWS::SQS::Queue');
  });

  it('lets only the rule send to the queues, and refuses plain HTTP on both', () => {
    const r = plain.template.Resources;
    const both = [DLQ, 'DeliveryFailuresQueue'].map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
    const policies = resourcesOfType(plain.template, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
      JSON.stringify(p.Properties.Queues).includes('DeliveryFailures'),
    );
    // One policy for both (a second policy on a queue would replace the first).
    expect(policies.map(([id]) => id)).toEqual(['DeliveryFailuresQueuePolicy']);
    const { Queues, PolicyDocument } = r.DeliveryFailuresQueuePolicy.Properties;
    expect(Queues).toEqual(expect.arrayContaining([{ Ref: 'DeliveryFailuresQueue' }, { Ref: DLQ }]));
    const allow = PolicyDocument.Statement.filter((s: any) => s.Effect === 'Allow');
    expect(allow).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['DeliveryFailuresRule', 'Arn'] } } },
      }),
    ]);
    expect(allow[0].Resource).toEqual(expect.arrayContaining(both));
    const deny = PolicyDocument.Statement.find((s: any) => s.Effect === 'Deny');
    expect(deny).toMatchObject({ Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(deny.Resource).toEqual(expect.arrayContaining(both));
  });

  it('alarms when a failure waits a day for its consumer, and when any reaches the dead-letter queue', () => {
    const r = plain.template.Resources;
    expect(r.DeliveryFailuresAgeAlarm.Properties).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeliveryFailuresQueue', 'QueueName'] } }],
      Threshold: 86_400,
    });
    expect(r.DeliveryFailuresDeadLetterAlarm.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [DLQ, 'QueueName'] } }],
      Threshold: 0,
    });
  });

  it('alarms when events stay owed half an hour without a break, as the drain counts them every minute', () => {
    const { Properties: alarm } = plain.template.Resources.DeliveryEventsOwedAlarm;
    expect(alarm).toMatchObject({
      Namespace: 'SmsStatus',
      MetricName: 'EventsOwed',
      Dimensions: [{ Name: 'service', Value: 'sms-status' }],
      Statistic: 'Minimum',
      Period: 300,
      EvaluationPeriods: 6,
      DatapointsToAlarm: 6,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm.AlarmDescription).toContain('events.errors');
    expect(plain.template.Resources.Dashboard.Properties.DashboardBody['Fn::Sub']).toContain('DeliveryEventsOwedAlarm');
  });
});

describe('delivery events in the template (EVENT_BUS_NAME names an existing bus)', () => {
  it('makes no bus, publishes to and routes from the bus named, and grants PutEvents on it alone', () => {
    const { template } = existingBus;
    expect(resourcesOfType(template, 'AWS::Events::EventBus')).toEqual([]);
    expect(template.Resources.DeliveryFailuresRule.Properties.EventBusName).toBe(EXISTING_BUS);
    expect(environmentOf(template, 'Export').EVENT_BUS_NAME).toBe(EXISTING_BUS);
    for (const role of Object.keys(WRITERS))
      expect(grantsOf(template, role, 'events:PutEvents').map((g) => g.Resource)).toEqual([EXISTING_BUS]);
  });
});

describe('delivery events in the template (EVENTS_ENABLED=false)', () => {
  it('removes the bus, the rule, the queues, their policies and alarms, and every PutEvents grant', () => {
    const { template } = disabled;
    for (const type of ['AWS::Events::EventBus', 'AWS::Events::Rule'])
      expect(resourcesOfType(template, type), type).toEqual([]);
    const queues = resourcesOfType(template, 'AWS::SQS::Queue').map(([id]) => id);
    expect(queues.filter((id) => id.startsWith('DeliveryFailures'))).toEqual([]);
    expect(Object.keys(template.Resources).filter((id) => id.startsWith('DeliveryFailures'))).toEqual([]);
    for (const [id] of resourcesOfType(template, 'AWS::IAM::Role'))
      expect(grantsOf(template, id, 'events:PutEvents'), id).toEqual([]);
    for (const fn of ['Export', 'Inbox']) expect(environmentOf(template, fn).EVENTS_ENABLED).toBe('false');
    expect(template.Resources.Dashboard.Properties.DashboardBody['Fn::Sub']).not.toContain('DeliveryFailures');
  });
});
