// Delivery events' part of the stack (docs/events.md), decided when the stack is packaged: the bus (made
// only when EVENT_BUS_NAME is left at its default, sms-status-<stage>; any other name or ARN is a bus
// that exists already), the rule that routes failed deliveries to an SQS queue with its dead-letter
// queue, the alarms on that queue, and what the writers' environments and roles need. EVENTS_ENABLED=false
// leaves every piece out, and the writers publish nothing.

const { alarmActions } = require('./alarm-topic.cjs');
const { secureQueue, FOURTEEN_DAYS } = require('./secure-queue.cjs');

const FAILURES = 'DeliveryFailuresQueue';
/** secureQueue's dead-letter queue of FAILURES: the rule's target names it as its own DLQ too. */
const FAILURES_DLQ = `${FAILURES}DeadLetter`;
const RULE = 'DeliveryFailuresRule';
/** A failure nobody took within a day: the consumer is down or missing. */
const OLDEST_ALARM_SECONDS = 86_400;

/** The ARN PutEvents is allowed on: the bus named, in this account and region, or the ARN given. */
function busArn(busName) {
  if (busName.startsWith('arn:')) return busName;
  return { 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${busName}` };
}

/** events:PutEvents on the bus only (never "*"): for the writers of the lake, the export and the inbox drain. */
function putEventsStatements({ enabled, busName }) {
  return enabled ? [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: busArn(busName) }] : [];
}

/** Only this rule may send to the queue (and to its dead-letter queue, for what it could not deliver). */
const FROM_THE_RULE = {
  Sid: 'FromTheRule',
  Effect: 'Allow',
  Principal: { Service: 'events.amazonaws.com' },
  Action: 'sqs:SendMessage',
  Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [RULE, 'Arn'] } } },
};

/** The failures' queue (kept 14 days: a consumer down for a week still finds every one), TLS only, with its DLQ. */
function failuresQueue(stage) {
  return secureQueue(FAILURES, {
    properties: { QueueName: `sms-status-${stage}-delivery-failures`, MessageRetentionPeriod: FOURTEEN_DAYS },
    allow: [FROM_THE_RULE],
  });
}

function rule(busRef) {
  return {
    Type: 'AWS::Events::Rule',
    Properties: {
      Description: 'Failed SMS deliveries (reportStatus FAIL) to the delivery-failures queue',
      EventBusName: busRef,
      EventPattern: {
        source: ['sms-status'],
        'detail-type': ['SMS Delivery Status Updated'],
        detail: { reportStatus: ['FAIL'] },
      },
      Targets: [
        {
          Id: 'delivery-failures',
          Arn: { 'Fn::GetAtt': [FAILURES, 'Arn'] },
          // What EventBridge cannot deliver in a day (a policy changed by hand, the queue gone) is kept.
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [FAILURES_DLQ, 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
        },
      ],
    },
  };
}

function alarm(stage, notify, { name, description, metric, queueName, threshold }) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `sms-status-${stage}-${name}`,
      AlarmDescription: description,
      Namespace: 'AWS/SQS',
      MetricName: metric,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueName, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: notify,
      OKActions: notify,
    },
  };
}

/**
 * The drain sweeps the outbox every minute and emits EventsOwed: the events EventBridge did not take. Owed
 * for half an hour without a break is an outage or a refusal that will not pass by itself.
 */
function owedAlarm(stage, notify) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `sms-status-${stage}-delivery-events-owed`,
      AlarmDescription:
        'Delivery events have waited in the outbox for 30 minutes: EventBridge refuses or cannot take them. ' +
        "Read the errors by code in the inbox drain's last log line (events.errors): AccessDeniedException " +
        'or ResourceNotFoundException means the role or the bus (EVENT_BUS_NAME); EventBridgeDown or ' +
        'ThrottlingException an outage. Receipts keep landing, and the events follow once EventBridge takes them.',
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
      AlarmActions: notify,
      OKActions: notify,
    },
  };
}

function alarms(stage, notify) {
  return {
    DeliveryEventsOwedAlarm: owedAlarm(stage, notify),
    DeliveryFailuresAgeAlarm: alarm(stage, notify, {
      name: 'delivery-failures-age',
      description:
        'A failed delivery has waited a day in the delivery-failures queue: its consumer (voice or email ' +
        'fallback, list cleaning) is down or missing. Check the consumer reading ' +
        `sms-status-${stage}-delivery-failures; messages are kept 14 days.`,
      metric: 'ApproximateAgeOfOldestMessage',
      queueName: FAILURES,
      threshold: OLDEST_ALARM_SECONDS,
    }),
    DeliveryFailuresDeadLetterAlarm: alarm(stage, notify, {
      name: 'delivery-failures-dead-letters',
      description:
        'Failure events reached the dead-letter queue: the consumer failed one five times, or EventBridge ' +
        'could not deliver to the queue for a day (its policy). Read the messages in ' +
        `the dead-letter queue of sms-status-${stage}-delivery-failures, fix the cause, then redrive them.`,
      metric: 'ApproximateNumberOfMessagesVisible',
      queueName: FAILURES_DLQ,
      threshold: 0,
    }),
  };
}

/** The stack's resources for delivery events: none when they are off. */
function resources({ enabled, busName, stage, created, notify }) {
  if (!enabled) return { Resources: {} };
  const bus = created ? { EventBus: { Type: 'AWS::Events::EventBus', Properties: { Name: busName } } } : {};
  return {
    Resources: {
      ...bus,
      [RULE]: rule(created ? { Ref: 'EventBus' } : busName),
      ...failuresQueue(stage),
      ...alarms(stage, notify),
    },
  };
}

async function settings({ resolveVariable }) {
  const stage = await resolveVariable('sls:stage');
  const enabled = await resolveVariable('param:eventsEnabled');
  const busName = await resolveVariable('param:eventBusName');
  const alarmEmail = await resolveVariable('param:alarmEmail');
  if (!/^([\w.\-/]{1,256}|arn:aws[\w-]*:events:[\w-]+:\d{12}:event-bus\/[\w.\-/]{1,256})$/.test(busName)) {
    throw new Error(`EVENT_BUS_NAME must be an event bus's name or ARN, not ${JSON.stringify(busName)}`);
  }
  const created = busName === `sms-status-${stage}`;
  return { enabled, busName, stage, created, notify: alarmActions(alarmEmail) };
}

module.exports = async (context) => {
  const s = await settings(context);
  return {
    // The writers' environment (serverless.yml): publishing is off unless this is 'true'.
    enabled: String(s.enabled),
    busName: s.busName,
    statements: putEventsStatements(s),
    resources: resources(s),
    // Appended to the dashboard's alarm widget (a JSON list inside a Fn::Sub string).
    dashboardAlarms: s.enabled
      ? ', "${DeliveryFailuresAgeAlarm.Arn}", "${DeliveryFailuresDeadLetterAlarm.Arn}", "${DeliveryEventsOwedAlarm.Arn}"'
      : '',
  };
};
