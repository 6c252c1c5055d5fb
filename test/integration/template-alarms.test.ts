/**
 * resources/alarms.yml in the packaged CloudFormation template: every alarm watches the metric it means
 * to (namespace, dimensions that name this stack's queue, functions, state machines and API), with its
 * threshold; the dashboard's body is JSON naming the metrics that matter; the SNS topic, its email
 * subscription and the alarms' actions exist only with ALARM_EMAIL. The defaults come from the global
 * setup's packages; one more package, with ALARM_EMAIL and a stage with a '-' in it, is made here.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PACKAGE_WITH_SECRET, packageService, packaged, resourcesOfType, type Packaged } from '../support/package.ts';

const ACCOUNT_ID = '123456789012';
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': ACCOUNT_ID,
};
const NO_VALUE = Symbol('AWS::NoValue');
const EMAIL = 'ops@example.com';
const DASHED_STAGE = 'ops-prod';

/** A template value as CloudFormation would deploy it; references to resources stay named: `<Ref X>`, `<X.Attr>`. */
function evaluate(template: any, value: any): any {
  if (Array.isArray(value)) return value.map((v) => evaluate(template, v)).filter((v) => v !== NO_VALUE);
  if (typeof value !== 'object' || value === null) return value;
  if ('Ref' in value) return value.Ref === 'AWS::NoValue' ? NO_VALUE : (PSEUDO[value.Ref] ?? `<Ref ${value.Ref}>`);
  if ('Fn::GetAtt' in value) return `<${[value['Fn::GetAtt']].flat().join('.')}>`;
  if ('Fn::If' in value) {
    const [name, yes, no] = value['Fn::If'];
    return evaluate(template, condition(template, name) ? yes : no);
  }
  if ('Fn::Sub' in value) return substitute(value['Fn::Sub']);
  return Object.fromEntries(
    Object.entries(value)
      .map(([k, v]) => [k, evaluate(template, v)])
      .filter(([, v]) => v !== NO_VALUE),
  );
}

function substitute(text: string): string {
  return text.replace(
    /\$\{([^}!]+)\}/g,
    (_, name: string) => PSEUDO[name] ?? (name.includes('.') ? `<${name}>` : `<Ref ${name}>`),
  );
}

function condition(template: any, name: string): boolean {
  const holds = (c: any): boolean => {
    if ('Fn::Not' in c) return !holds(c['Fn::Not'][0]);
    if ('Fn::Equals' in c) {
      const [a, b] = c['Fn::Equals'].map((v: any) => evaluate(template, v));
      return a === b;
    }
    if ('Condition' in c) return condition(template, c.Condition);
    throw new Error(`no evaluator for the condition ${JSON.stringify(c)}`);
  };
  const found = template.Conditions?.[name];
  if (!found) throw new Error(`no condition ${name}`);
  return holds(found);
}

/** The resources a deployment creates: those without a Condition, or whose Condition holds. */
function created(template: any): Record<string, any> {
  return Object.fromEntries(
    Object.entries(template.Resources as Record<string, any>).filter(
      ([, r]) => r.Condition === undefined || condition(template, r.Condition),
    ),
  );
}

function alarm(template: any, id: string): any {
  const found = created(template)[id];
  expect(found?.Type, id).toBe('AWS::CloudWatch::Alarm');
  return evaluate(template, found.Properties);
}

function alarmIds(template: any): string[] {
  return resourcesOfType(template, 'AWS::CloudWatch::Alarm')
    .map(([id]) => id)
    .sort();
}

interface Expected {
  namespace: string;
  metric: string;
  dimensions: (t: Stage) => Record<string, string>;
  statistic: string;
  threshold: number;
  missing?: string;
}

/** What a package was made with. */
interface Stage {
  stage: string;
}

const service = { service: 'sms-status' };
const arnOfStateMachine = (name: string): string => `arn:aws:states:us-east-1:${ACCOUNT_ID}:stateMachine:${name}`;

const ALARMS: Record<string, Expected> = {
  ExportFailuresAlarm: {
    namespace: 'AWS/SQS',
    metric: 'ApproximateNumberOfMessagesVisible',
    dimensions: () => ({ QueueName: '<ExportFailuresQueue.QueueName>' }),
    statistic: 'Maximum',
    threshold: 0,
  },
  ExportErrorsAlarm: {
    namespace: 'AWS/Lambda',
    metric: 'Errors',
    dimensions: () => ({ FunctionName: '<Ref ExportLambdaFunction>' }),
    statistic: 'Sum',
    threshold: 0,
  },
  TencentThrottlesAlarm: {
    namespace: 'SmsStatus',
    metric: 'Throttles',
    dimensions: () => service,
    statistic: 'Sum',
    threshold: 0,
  },
  CheckpointAgeAlarm: {
    namespace: 'SmsStatus',
    metric: 'CheckpointAgeSeconds',
    dimensions: () => service,
    statistic: 'Minimum',
    threshold: 3 * 3600,
    missing: 'missing',
  },
  ExportWorkflowFailedAlarm: {
    namespace: 'AWS/States',
    metric: 'ExecutionsFailed',
    dimensions: ({ stage }) => ({ StateMachineArn: arnOfStateMachine(`sms-status-${stage}-export`) }),
    statistic: 'Sum',
    threshold: 0,
  },
  ExportWorkflowDistributedFailedAlarm: {
    namespace: 'AWS/States',
    metric: 'ExecutionsFailed',
    dimensions: ({ stage }) => ({ StateMachineArn: arnOfStateMachine(`sms-status-${stage}-export-distributed`) }),
    statistic: 'Sum',
    threshold: 0,
  },
  LookupServerErrorsAlarm: {
    namespace: 'AWS/ApiGateway',
    metric: '5XXError',
    dimensions: ({ stage }) => ({ ApiName: `${stage}-sms-status` }),
    statistic: 'Sum',
    threshold: 0,
  },
  LookupLatencyAlarm: {
    namespace: 'AWS/ApiGateway',
    metric: 'Latency',
    dimensions: ({ stage }) => ({ ApiName: `${stage}-sms-status` }),
    statistic: 'p99',
    threshold: 25_000,
  },
  CallbackErrorsAlarm: {
    namespace: 'AWS/Lambda',
    metric: 'Errors',
    dimensions: () => ({ FunctionName: '<Ref CallbackLambdaFunction>' }),
    statistic: 'Sum',
    threshold: 0,
  },
  InboxDrainErrorsAlarm: {
    namespace: 'AWS/Lambda',
    metric: 'Errors',
    dimensions: () => ({ FunctionName: '<Ref InboxLambdaFunction>' }),
    statistic: 'Sum',
    threshold: 0,
  },
};

/** The metrics the dashboard must chart, by namespace. */
const DASHBOARD_METRICS: Record<string, string[]> = {
  SmsStatus: [
    'TencentRequests',
    'Throttles',
    'Retries',
    'UpstreamLatency',
    'RecordsExported',
    'PendingWindows',
    'StuckNumbers',
    'RetentionGap',
    'CheckpointAgeSeconds',
    'InboxObjectsDrained',
    'CallbackReceipts',
  ],
  'AWS/ApiGateway': ['4XXError', '5XXError', 'Latency'],
  'AWS/Lambda': ['Invocations', 'Errors'],
  'AWS/SQS': ['ApproximateNumberOfMessagesVisible'],
  'AWS/States': ['ExecutionsFailed'],
};

let plain: Packaged;
let withSecret: Packaged;
let withEmail: Packaged;

beforeAll(async () => {
  plain = await packaged(inject('stack').packages.plain);
  withSecret = await packaged(inject('stack').packages.withSecret);
  withEmail = await packageService({ ...PACKAGE_WITH_SECRET, ALARM_EMAIL: EMAIL }, ['--stage', DASHED_STAGE]);
}, 180_000);

afterAll(async () => {
  if (withEmail) await rm(withEmail.dir, { recursive: true, force: true });
});

const packages: Array<[string, () => Packaged, Stage]> = [
  ['default parameters', () => plain, { stage: 'dev' }],
  ['a secret, bucket and prefix set', () => withSecret, { stage: 'dev' }],
  [`ALARM_EMAIL set, stage ${DASHED_STAGE}`, () => withEmail, { stage: DASHED_STAGE }],
];

describe.each(packages)('the alarms (%s)', (_, pkg, stage) => {
  it('are exactly the expected ones, all created by the stack', () => {
    const { template } = pkg();
    expect(alarmIds(template)).toEqual(Object.keys(ALARMS).sort());
    for (const id of Object.keys(ALARMS)) expect(template.Resources[id].Condition, id).toBeUndefined();
  });

  it.each(Object.entries(ALARMS))('%s watches its metric, dimensions and threshold', (id, expected) => {
    const p = alarm(pkg().template, id);
    expect(p.Namespace).toBe(expected.namespace);
    expect(p.MetricName).toBe(expected.metric);
    expect(Object.fromEntries(p.Dimensions.map((d: any) => [d.Name, d.Value]))).toEqual(expected.dimensions(stage));
    expect(p.Statistic ?? p.ExtendedStatistic).toBe(expected.statistic);
    expect(Number(p.Threshold)).toBe(expected.threshold);
    expect(p.ComparisonOperator).toBe('GreaterThanThreshold');
    expect(p.TreatMissingData).toBe(expected.missing ?? 'notBreaching');
    expect(p.Period % 60).toBe(0);
    expect(p.EvaluationPeriods).toBeGreaterThanOrEqual(p.DatapointsToAlarm ?? 1);
    expect(p.AlarmName).toMatch(new RegExp(`^sms-status-${stage.stage}-`));
    // An operator reading the mail knows what to do: a sentence or two, within CloudWatch's 1024 characters.
    expect(p.AlarmDescription.length).toBeGreaterThan(100);
    expect(p.AlarmDescription.length).toBeLessThanOrEqual(1024);
    expect(p.AlarmDescription).not.toMatch(/\$\{/);
  });

  it("names this stack's queue, functions, state machines and API", () => {
    const { template } = pkg();
    const resources = template.Resources;
    // The failure queue is the export's on-failure destination.
    expect(resources.ExportLambdaEvConf.Properties.DestinationConfig.OnFailure.Destination).toEqual({
      'Fn::GetAtt': ['ExportFailuresQueue', 'Arn'],
    });
    expect(resources.ExportFailuresQueue.Type).toBe('AWS::SQS::Queue');
    for (const [id, fn] of [
      ['ExportLambdaFunction', 'export'],
      ['CallbackLambdaFunction', 'callback'],
      ['InboxLambdaFunction', 'inbox'],
    ] as const) {
      expect(resources[id].Type).toBe('AWS::Lambda::Function');
      expect(resources[id].Properties.FunctionName).toBe(`sms-status-${stage.stage}-${fn}`);
    }
    // Both export workflows, by the ARN of the state machines this template creates.
    const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').map(([, r]) =>
      arnOfStateMachine(r.Properties.StateMachineName),
    );
    for (const id of ['ExportWorkflowFailedAlarm', 'ExportWorkflowDistributedFailedAlarm']) {
      expect(machines).toContain(alarm(template, id).Dimensions[0].Value);
    }
    // The REST API by its name, as API Gateway reports it.
    const [[, api]] = resourcesOfType(template, 'AWS::ApiGateway::RestApi') as [[string, any]];
    for (const id of ['LookupServerErrorsAlarm', 'LookupLatencyAlarm'])
      expect(alarm(template, id).Dimensions[0].Value).toBe(api.Properties.Name);
  });

  it('has a dashboard whose body is JSON charting the metrics that matter', () => {
    const { template } = pkg();
    const dashboard = created(template).Dashboard;
    expect(dashboard.Type).toBe('AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties.DashboardName).toBe(`sms-status-${stage.stage}`);
    const source: string = dashboard.Properties.DashboardBody['Fn::Sub'];
    // Every substitution names a pseudo parameter or a resource of this template (no variable left unresolved).
    for (const [, name] of source.matchAll(/\$\{([^}]+)\}/g)) {
      const id = (name as string).split('.')[0] as string;
      expect(id in PSEUDO || id in template.Resources, name).toBe(true);
    }
    const body = JSON.parse(substitute(source));
    const widgets: any[] = body.widgets;
    const charted = widgets.flatMap((w) => (w.properties.metrics ?? []) as any[][]);
    for (const [namespace, names] of Object.entries(DASHBOARD_METRICS)) {
      for (const name of names)
        expect(
          charted.some((m) => m[0] === namespace && m[1] === name),
          `${namespace} ${name}`,
        ).toBe(true);
    }
    const dimensionsOf = (namespace: string, name: string): string[] =>
      charted.filter((m) => m[0] === namespace && m[1] === name).map((m) => `${m[2]}=${m[3]}`);
    expect(new Set(dimensionsOf('SmsStatus', 'CheckpointAgeSeconds'))).toEqual(new Set(['service=sms-status']));
    expect(dimensionsOf('AWS/Lambda', 'Invocations')).toContain('FunctionName=<Ref CallbackLambdaFunction>');
    expect(dimensionsOf('AWS/Lambda', 'Errors')).toEqual(
      expect.arrayContaining([
        'FunctionName=<Ref CallbackLambdaFunction>',
        'FunctionName=<Ref InboxLambdaFunction>',
        'FunctionName=<Ref ExportLambdaFunction>',
      ]),
    );
    expect(dimensionsOf('AWS/ApiGateway', '5XXError')).toEqual([`ApiName=${stage.stage}-sms-status`]);
    expect(dimensionsOf('AWS/SQS', 'ApproximateNumberOfMessagesVisible')).toContain(
      'QueueName=<ExportFailuresQueue.QueueName>',
    );
    // Every metric widget has a region; the alarm widget shows every alarm.
    for (const w of widgets.filter((w) => w.type === 'metric')) expect(w.properties.region).toBe('us-east-1');
    const alarms = widgets.find((w) => w.type === 'alarm')?.properties.alarms;
    expect([...alarms].sort()).toEqual(
      Object.keys(ALARMS)
        .map((id) => `<${id}.Arn>`)
        .sort(),
    );
  });
});

describe('notifications', () => {
  it.each([
    ['default parameters', () => plain],
    ['a secret, bucket and prefix set', () => withSecret],
  ])('without ALARM_EMAIL: no topic, no subscription, no alarm actions (%s)', (_, pkg) => {
    const { template } = pkg();
    // Decided at package time (config/alarm-topic.cjs): no condition for CloudFormation to find constant.
    expect(template.Conditions ?? {}).toEqual({});
    const resources = created(template);
    expect(resourcesOfType({ Resources: resources }, 'AWS::SNS::Topic')).toEqual([]);
    expect(resourcesOfType({ Resources: resources }, 'AWS::SNS::Subscription')).toEqual([]);
    for (const id of Object.keys(ALARMS)) {
      const p = alarm(template, id);
      expect(p.AlarmActions, id).toBeUndefined();
      expect(p.OKActions, id).toBeUndefined();
    }
  });

  it('with ALARM_EMAIL: a topic, its email subscription, and every alarm notifying it on ALARM and OK', () => {
    const { template } = withEmail;
    expect(template.Conditions ?? {}).toEqual({});
    const resources = created(template);
    const topics = resourcesOfType({ Resources: resources }, 'AWS::SNS::Topic');
    expect(topics.map(([id]) => id)).toEqual(['AlarmTopic']);
    const subscriptions = resourcesOfType({ Resources: resources }, 'AWS::SNS::Subscription');
    expect(subscriptions.map(([, s]) => s.Properties)).toEqual([
      {
        TopicArn: { Ref: 'AlarmTopic' },
        Protocol: 'email',
        Endpoint: EMAIL,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['AlarmEmailDeadLetterQueue', 'Arn'] } },
      },
    ]);
    for (const id of Object.keys(ALARMS)) {
      const p = alarm(template, id);
      expect(p.AlarmActions, id).toEqual(['<Ref AlarmTopic>']);
      expect(p.OKActions, id).toEqual(['<Ref AlarmTopic>']);
    }
  });
});
