// An SQS queue as the rule packs want every queue of the stack (docs/edge.md, "Security posture"): encrypted
// (SSE-SQS), refusing any request without TLS, and redriving to a dead-letter queue of its own, which is as
// locked down. Used by config/queues.cjs and config/alarm-topic.cjs; for queues of other files, see there.

/** Fourteen days, SQS's longest: a dead letter is read by a person, who may be away for a week. */
const FOURTEEN_DAYS = 1_209_600;

const arnOf = (id) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** Deny every SQS action over plain HTTP (cdk-nag AwsSolutions-SQS4), for anyone, on `ids`' queues. */
function denyInsecureTransport(ids) {
  return {
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 'sqs:*',
    Resource: ids.map(arnOf),
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

/**
 * The resources of queue `id`: `id` itself; unless it is a dead-letter queue itself (`deadLetter: false`),
 * `<id>DeadLetter`, which receives a message after `maxReceiveCount` receives; and `<id>Policy`, one queue
 * policy for both (a queue has one policy: a second AWS::SQS::QueuePolicy would replace the first), with the
 * TLS deny and the `allow` statements a sender needs (an SNS topic, an EventBridge rule). Their Resource is
 * filled in here: both queues, so an EventBridge target may name the dead-letter queue as its own DLQ too.
 */
function secureQueue(id, { properties = {}, maxReceiveCount = 5, deadLetter = true, allow = [] } = {}) {
  const dlq = `${id}DeadLetter`;
  const ids = deadLetter ? [id, dlq] : [id];
  const redrive = deadLetter ? { RedrivePolicy: { deadLetterTargetArn: arnOf(dlq), maxReceiveCount } } : {};
  const queue = { Type: 'AWS::SQS::Queue', Properties: { ...properties, SqsManagedSseEnabled: true, ...redrive } };
  const resources = { [id]: queue };
  if (deadLetter) {
    resources[dlq] = {
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: FOURTEEN_DAYS, SqsManagedSseEnabled: true },
    };
  }
  resources[`${id}Policy`] = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: ids.map((queueId) => ({ Ref: queueId })),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          denyInsecureTransport(ids),
          ...allow.map((statement) => ({ ...statement, Resource: ids.map(arnOf) })),
        ],
      },
    },
  };
  return resources;
}

module.exports = { secureQueue, FOURTEEN_DAYS };
