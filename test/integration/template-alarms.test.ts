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
  /** The delivery-failure alarm's ratio and least count, and the countries charted apart. */
  ratio: number;
  minReceipts: number;
  countries: string[];
}

const DEFAULT_HEALTH = {
  ratio: 0.2,
  minReceipts: 100,
  countries: ['86', '852', '853', '886', '1', '44', '65', '60', '81', '82'],
};
const SET_HEALTH = { ratio: 0.35, minReceipts: 250, countries: ['86', '44'] };

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
  DeliveryFailuresAgeAlarm: {
    namespace: 'AWS/SQS',
    metric: 'ApproximateAgeOfOldestMessage',
    dimensions: () => ({ QueueName: '<DeliveryFailuresQueue.QueueName>' }),
    statistic: 'Maximum',
    threshold: 86_400,
  },
  DeliveryFailuresDeadLetterAlarm: {
    namespace: 'AWS/SQS',
    metric: 'ApproximateNumberOfMessagesVisible',
    dimensions: () => ({ QueueName: '<DeliveryFailuresQueueDeadLetter.QueueName>' }),
    statistic: 'Maximum',
    threshold: 0,
  },
  DeliveryEventsOwedAlarm: {
    namespace: 'SmsStatus',
    metric: 'EventsOwed',
    dimensions: () => ({ service: 'sms-status' }),
    statistic: 'Minimum',
    threshold: 0,
  },
};

/** Alarms over metric math rather than one metric. */
const MATH_ALARMS = ['DeliveryFailureRatioAlarm'];

/**
 * CloudWatch's metric math, as far as the failure-ratio alarm uses it (IF, FILL, + - * / and comparisons),
 * over one period's values: undefined for a metric with no data point.
 */
function metricMath(expression: string, values: Record<string, number | undefined>): number {
  const js = expression
    .replace(/FILL\((\w+),\s*([\d.]+)\)/g, (_, id: string, fill: string) => String(values[id] ?? Number(fill)))
    .replace(/\bIF\(/g, 'iff(');
  expect(js, `only numbers and operators left in ${js}`).toMatch(/^[\d.\s+\-*/()<>=,iff]*$/);
  const iff = (c: unknown, a: number, b: number): number => (c ? a : b);
  return new Function('iff', `return ${js};`)(iff) as number;
}

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
    'Receipts',
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
  const health = {
    DELIVERY_FAILURE_ALARM_RATIO: String(SET_HEALTH.ratio),
    DELIVERY_ALARM_MIN_RECEIPTS: String(SET_HEALTH.minReceipts),
    METRIC_COUNTRY_CODES: SET_HEALTH.countries.join(','),
  };
  withEmail = await packageService({ ...PACKAGE_WITH_SECRET, ALARM_EMAIL: EMAIL, ...health }, [
    '--stage',
    DASHED_STAGE,
  ]);
}, 180_000);

afterAll(async () => {
  if (withEmail) await rm(withEmail.dir, { recursive: true, force: true });
});

const packages: Array<[string, () => Packaged, Stage]> = [
  ['default parameters', () => plain, { stage: 'dev', ...DEFAULT_HEALTH }],
  ['a secret, bucket and prefix set', () => withSecret, { stage: 'dev', ...DEFAULT_HEALTH }],
  [`ALARM_EMAIL set, stage ${DASHED_STAGE}, health settings`, () => withEmail, { stage: DASHED_STAGE, ...SET_HEALTH }],
];

describe.each(packages)('the alarms (%s)', (_, pkg, stage) => {
  it('are exactly the expected ones, all created by the stack', () => {
    const { template } = pkg();
    expect(alarmIds(template)).toEqual([...Object.keys(ALARMS), ...MATH_ALARMS].sort());
    for (const id of [...Object.keys(ALARMS), ...MATH_ALARMS])
      expect(template.Resources[id].Condition, id).toBeUndefined();
  });

  it('the delivery-failure alarm: failed ÷ all receipts over the last hour, only past the least count', () => {
    const p = alarm(pkg().template, 'DeliveryFailureRatioAlarm');
    const byId = Object.fromEntries(p.Metrics.map((m: any) => [m.Id, m]));
    for (const [id, status] of [
      ['failed', 'FAIL'],
      ['delivered', 'SUCCESS'],
    ] as const) {
      const { Metric, Period, Stat } = byId[id].MetricStat;
      expect([Metric.Namespace, Metric.MetricName, Period, Stat, byId[id].ReturnData]).toEqual([
        'SmsStatus',
        'Receipts',
        3600,
        'Sum',
        false,
      ]);
      expect(Object.fromEntries(Metric.Dimensions.map((d: any) => [d.Name, d.Value]))).toEqual({
        ...service,
        ReportStatus: status,
      });
    }
    const returned = p.Metrics.filter((m: any) => m.ReturnData !== false);
    expect(returned.map((m: any) => m.Id)).toEqual(['ratio']);
    expect(Number(p.Threshold)).toBe(stage.ratio);
    expect([p.ComparisonOperator, p.TreatMissingData, p.EvaluationPeriods]).toEqual([
      'GreaterThanThreshold',
      'notBreaching',
      1,
    ]);
    const fires = (failed: number | undefined, delivered: number | undefined): boolean =>
      metricMath(returned[0].Expression, { failed, delivered }) > Number(p.Threshold);
    const least = stage.minReceipts;
    // A quiet night: every one of a few receipts failed, and nobody is paged.
    expect(fires(least - 1, undefined)).toBe(false);
    expect(fires(Math.ceil(least * 0.9), Math.floor(least * 0.1) - 1)).toBe(false);
    // Enough receipts: above the ratio fires, at or under it does not; no data at all is no alarm.
    const failedAbove = Math.floor(least * 4 * stage.ratio) + 1;
    expect(fires(failedAbove, least * 4 - failedAbove)).toBe(true);
    expect(fires(least * 4 * stage.ratio, least * 4 * (1 - stage.ratio))).toBe(false);
    expect(fires(undefined, least * 10)).toBe(false);
    expect(fires(undefined, undefined)).toBe(false);
    expect(fires(least, undefined)).toBe(true);
    expect(p.AlarmDescription).toMatch(/by country/);
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
    expect([...alarms].sort()).toEqual([...Object.keys(ALARMS), ...MATH_ALARMS].map((id) => `<${id}.Arn>`).sort());
  });

  it('charts delivery health: the delivery rate overall and by each configured country and the rest, receipts by status', () => {
    const body = JSON.parse(substitute(created(pkg().template).Dashboard.Properties.DashboardBody['Fn::Sub']));
    const titled = (text: string): any =>
      body.widgets.find((w: any) => String(w.properties.title).startsWith(text))?.properties;
    const rateOf = (widget: any, label: string): string[] => {
      const expression = widget.metrics.find((m: any[]) => m[0]?.label === label)?.[0]?.expression as string;
      expect(expression, label).toBeDefined();
      // Each id of the expression names a hidden Receipts metric: SUCCESS over SUCCESS + FAIL.
      const [d, again, f] = expression.match(/^100 \* (\w+) \/ \((\w+) \+ (\w+)\)$/)?.slice(1) ?? [];
      expect(again, expression).toBe(d);
      const metricOf = (id: string | undefined) => widget.metrics.find((m: any[]) => m.at(-1)?.id === id) as any[];
      return [metricOf(d), metricOf(f)].map((m) => m.slice(0, -1).join(' '));
    };
    const overall = titled('Delivery rate (%');
    expect(rateOf(overall, 'delivery rate')).toEqual([
      'SmsStatus Receipts service sms-status ReportStatus SUCCESS',
      'SmsStatus Receipts service sms-status ReportStatus FAIL',
    ]);
    expect(overall.annotations.horizontal[0].value).toBeCloseTo(100 * (1 - stage.ratio));
    const byCountry = titled('Delivery rate by country');
    const labels = byCountry.metrics.filter((m: any[]) => m[0]?.expression).map((m: any[]) => m[0].label);
    expect(labels).toEqual([...stage.countries.map((c) => `+${c}`), 'other']);
    for (const code of [...stage.countries, 'other']) {
      expect(rateOf(byCountry, code === 'other' ? 'other' : `+${code}`)).toEqual([
        `SmsStatus Receipts service sms-status ReportStatus SUCCESS CountryCode ${code}`,
        `SmsStatus Receipts service sms-status ReportStatus FAIL CountryCode ${code}`,
      ]);
    }
    const byStatus = titled('Receipts by status');
    expect(byStatus.metrics.map((m: any[]) => m.slice(0, 6).join(' '))).toEqual([
      'SmsStatus Receipts service sms-status ReportStatus SUCCESS',
      'SmsStatus Receipts service sms-status ReportStatus FAIL',
    ]);
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
    for (const id of [...Object.keys(ALARMS), ...MATH_ALARMS]) {
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
    for (const id of [...Object.keys(ALARMS), ...MATH_ALARMS]) {
      const p = alarm(template, id);
      expect(p.AlarmActions, id).toEqual(['<Ref AlarmTopic>']);
      expect(p.OKActions, id).toEqual(['<Ref AlarmTopic>']);
    }
  });
});
