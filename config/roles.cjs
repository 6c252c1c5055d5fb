// The functions' own IAM roles (and the drain's schedule's), generated: each trusts one AWS service and
// holds one inline policy, whose statements config/iam.cjs builds (custom.iam in serverless.yml). The
// export runs under the framework's default role (provider.iam).

/** A trust policy letting `service` assume the role; `condition` narrows who may. */
function trustPolicy(service, condition) {
  const statement = { Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' };
  return { Version: '2012-10-17', Statement: [condition ? { ...statement, Condition: condition } : statement] };
}

/** A role trusting `service`, with custom.iam's statements `name` as its policy sms-status-<name, kebab-case>. */
function role(service, name, condition) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: trustPolicy(service, condition),
      Policies: [
        {
          PolicyName: `sms-status-${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`,
          PolicyDocument: { Version: '2012-10-17', Statement: `\${self:custom.iam.${name}}` },
        },
      ],
    },
  };
}

const LAMBDA = 'lambda.amazonaws.com';

module.exports = {
  Resources: {
    // Its own log group, and the Tencent secret when one is configured; nothing else.
    LookupRole: role(LAMBDA, 'lookup'),
    // Its log group, PutObject under _inbox/, and the token's secret when one is configured.
    CallbackRole: role(LAMBDA, 'callback'),
    // Its log group; read, write and delete under _inbox/, statuses/, _quarantine/, _lake/ and _outbox/;
    // events:PutEvents on the delivery events' bus.
    InboxRole: role(LAMBDA, 'inbox'),
    // EventBridge Scheduler invoking the drain, for this account's schedules only.
    InboxScheduleRole: role('scheduler.amazonaws.com', 'inboxSchedule', {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    }),
  },
};
