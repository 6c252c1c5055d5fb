// The alarms' SNS topic (resources/alarms.yml), decided at package time: with ALARM_EMAIL set, a topic that
// mails that address on ALARM and OK; without it, no topic, and the alarms show in the console only.
// `actions` is every alarm's AlarmActions and OKActions; `resources` the topic and what it needs.
const { secureQueue } = require('./secure-queue.cjs');

const TOPIC = 'AlarmTopic';
const MAIL_DLQ = 'AlarmEmailDeadLetterQueue';

/**
 * CloudWatch may publish, for this account's alarms; nobody may publish over plain HTTP (cdk-nag
 * AwsSolutions-SNS3). A topic policy replaces SNS's default one, which is why CloudWatch is named here.
 */
function topicPolicy() {
  const topic = { Ref: TOPIC };
  return {
    Type: 'AWS::SNS::TopicPolicy',
    Properties: {
      Topics: [topic],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'CloudWatchAlarms',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: topic,
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: topic,
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    },
  };
}

function topicResources(stage, email) {
  // SNS may drop into the mail's dead-letter queue what it could not deliver, from this topic only.
  const fromTopic = {
    Sid: 'AlarmTopicUndelivered',
    Effect: 'Allow',
    Principal: { Service: 'sns.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Condition: { ArnEquals: { 'aws:SourceArn': { Ref: TOPIC } } },
  };
  return {
    [TOPIC]: {
      Type: 'AWS::SNS::Topic',
      Properties: { TopicName: `sms-status-${stage}-alarms`, DisplayName: `sms-status ${stage} alarms` },
    },
    [`${TOPIC}Policy`]: topicPolicy(),
    // SNS mails a confirmation first: nothing arrives until the address confirms the subscription. A mail
    // SNS gave up on (the address bounced, the mail service refused it) waits in the dead-letter queue.
    AlarmEmailSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn: { Ref: TOPIC },
        Protocol: 'email',
        Endpoint: email,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [MAIL_DLQ, 'Arn'] } },
      },
    },
    ...secureQueue(MAIL_DLQ, {
      deadLetter: false,
      properties: { MessageRetentionPeriod: 1_209_600 },
      allow: [fromTopic],
    }),
  };
}

/** Every alarm's AlarmActions and OKActions: the topic, or none. */
function alarmActions(email) {
  return email ? [{ Ref: TOPIC }] : { Ref: 'AWS::NoValue' };
}

module.exports = async ({ resolveVariable }) => {
  const email = await resolveVariable('param:alarmEmail');
  const stage = await resolveVariable('sls:stage');
  return {
    actions: alarmActions(email),
    resources: { Resources: email ? topicResources(stage, email) : {} },
  };
};
module.exports.alarmActions = alarmActions;
