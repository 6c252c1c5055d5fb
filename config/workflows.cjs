// The Step Functions state machines (serverless.yml `stepFunctions`, read by serverless-step-functions).
// The two export workflows share their plan, shard and commit states, built here once: the Distributed
// variant differs only in how its Map reads its items and runs them. `${…}` strings are Serverless
// variables, resolved in what this returns as in serverless.yml itself.

const LAMBDA_RETRY = {
  ErrorEquals: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'Lambda.ClientExecutionTimeoutException',
  ],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: 'FULL',
};

const UPSTREAM_RETRY = {
  ErrorEquals: ['RateLimited', 'UpstreamUnavailable'],
  IntervalSeconds: 5,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 300,
  JitterStrategy: 'FULL',
};

// A Lambda timeout raises Sandbox.Timedout in the Task (no States.TaskFailed, no Lambda.*): the step
// resumes from its saved progress, and every write is conditional, so running it again is safe.
const TIMEOUT_RETRY = {
  ErrorEquals: ['Sandbox.Timedout'],
  IntervalSeconds: 5,
  MaxAttempts: 3,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: 'FULL',
};

/** Fresh copies each time: no two states share an object the plugin might rewrite. */
const exportRetry = () => structuredClone([LAMBDA_RETRY, UPSTREAM_RETRY, TIMEOUT_RETRY]);
const exportTask = () => ({ 'Fn::GetAtt': ['export', 'Arn'] });
/** Never more shards at once than the export's reserved concurrency. */
const SHARD_CONCURRENCY = '${self:custom.budget.export.reservedConcurrency}';

/**
 * From the plan on, the state is the plan alone (ResultSelector): an execution input of thousands of
 * inline numbers is not carried beside it through the Map and the commit (Step Functions' 256 KB).
 */
function planState() {
  return {
    Type: 'Task',
    Resource: exportTask(),
    Parameters: { action: 'plan', 'request.$': '$' },
    ResultSelector: { 'plan.$': '$' },
    Retry: exportRetry(),
    Catch: [{ ErrorEquals: ['InvalidInput', 'UpstreamRejected'], Next: 'Rejected' }],
    Next: 'ExportShards',
  };
}

/**
 * InvalidInput and UpstreamRejected are caught at once (no retrier names them); anything still failing
 * once its retries are spent is caught too: the commit records the shard as refused and owes its windows.
 */
function shardStates() {
  return {
    ExportShard: {
      Type: 'Task',
      Resource: exportTask(),
      ResultPath: '$.result',
      Retry: exportRetry(),
      Catch: [
        { ErrorEquals: ['InvalidInput', 'UpstreamRejected'], ResultPath: '$.error', Next: 'ShardRejected' },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ShardRejected' },
      ],
      Next: 'ShardDone',
    },
    ShardDone: {
      Type: 'Choice',
      Choices: [{ Variable: '$.result.done', BooleanEquals: false, Next: 'ExportShard' }],
      Default: 'ShardResult',
    },
    ShardResult: { Type: 'Pass', OutputPath: '$.result', End: true },
    ShardRejected: { Type: 'Pass', Parameters: { 'shard.$': '$.shard', 'error.$': '$.error' }, End: true },
  };
}

function commitStates() {
  return {
    Commit: {
      Type: 'Task',
      Resource: exportTask(),
      Parameters: { action: 'commit', 'plan.$': '$.plan', 'results.$': '$.results' },
      Retry: exportRetry(),
      Next: 'Complete?',
    },
    'Complete?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.complete', BooleanEquals: true, Next: 'Exported' }],
      Default: 'Incomplete',
    },
    Exported: { Type: 'Succeed' },
    Incomplete: {
      Type: 'Fail',
      Error: 'ExportIncomplete',
      Cause:
        'Numbers were refused or kept failing; the run summary under _runs/ lists them. The checkpoint did not move.',
    },
    Rejected: {
      Type: 'Fail',
      Error: 'ExportRejected',
      Cause:
        'The request was invalid or Tencent refused the credentials or app; ' +
        "the execution's PlanFailed event holds the error.",
    },
  };
}

/** An export workflow: plan, the shards through `map` (how it reads and runs them), commit. */
function exportDefinition(comment, map) {
  const shards = {
    ItemSelector: { action: 'shard', 'plan.$': '$.plan', 'shard.$': '$$.Map.Item.Value' },
    ItemProcessor: { ProcessorConfig: map.processor, StartAt: 'ExportShard', States: shardStates() },
    ResultPath: '$.results',
    Next: 'Commit',
  };
  return {
    Comment: comment,
    StartAt: 'Plan',
    States: {
      Plan: planState(),
      ExportShards: { Type: 'Map', ...map.items, MaxConcurrency: SHARD_CONCURRENCY, ...shards },
      ...commitStates(),
    },
  };
}

/**
 * X-Ray across the workflow and its Lambda tasks; every execution and state event in `logGroup`
 * (resources/operations.yml), without their input and output: no phone number reaches the logs.
 */
function observed(logGroup) {
  return {
    tracingConfig: { enabled: true },
    loggingConfig: {
      level: 'ALL',
      includeExecutionData: false,
      destinations: [{ 'Fn::GetAtt': [logGroup, 'Arn'] }],
    },
  };
}

const exportWorkflow = {
  name: 'sms-status-${sls:stage}-export',
  ...observed('ExportWorkflowLogGroup'),
  events: [
    {
      schedule: {
        method: 'scheduler',
        rate: 'rate(1 hour)',
        enabled: '${param:exportWorkflowScheduleEnabled}',
        input: { schedule: 'hourly' },
      },
    },
  ],
  definition: exportDefinition("Export every number's delivery receipts to S3, shard by shard (inline Map).", {
    items: { ItemsPath: '$.plan.shards' },
    processor: { Mode: 'INLINE' },
  }),
};

const exportWorkflowDistributed = {
  name: 'sms-status-${sls:stage}-export-distributed',
  ...observed('ExportWorkflowLogGroup'),
  // The item reader reads the shard list from the lake: with KMS_KEY_ARN, kms:Decrypt on the key.
  iamRoleStatements: '${self:custom.iam.workflow}',
  definition: exportDefinition(
    'The same export for very large manifests; shards run as child executions (Distributed Map).',
    {
      items: {
        ItemReader: {
          Resource: 'arn:${self:custom.partition}:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: '${param:exportBucket}', 'Key.$': '$.plan.shardList.key' },
        },
      },
      processor: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
    },
  ),
};

const lookupExample = {
  name: 'sms-status-${sls:stage}-lookup-example',
  ...observed('LookupExampleLogGroup'),
  definition: {
    Comment: 'Looks up one number from a workflow; see docs/step-functions.md.',
    StartAt: 'Lookup',
    States: {
      Lookup: {
        Type: 'Task',
        Resource: { 'Fn::GetAtt': ['lookup', 'Arn'] },
        // One page of Tencent (at most 100 records from each source): a task's result, before
        // ResultSelector, must fit Step Functions' 256 KB, and an all=true answer can reach 5 MB.
        Parameters: { 'phoneNumber.$': '$.phoneNumber', limit: 100 },
        // The workflow keeps what it decides on, not the receipts: their phone numbers would sit in the
        // execution's state and history for 90 days.
        ResultSelector: {
          'complete.$': '$.complete',
          'receipts.$': 'States.ArrayLength($.statuses)',
          'reportStatuses.$': '$.statuses[*].reportStatus',
          'requestIds.$': '$.requestIds',
        },
        Retry: [
          structuredClone(LAMBDA_RETRY),
          {
            ErrorEquals: ['RateLimited', 'UpstreamUnavailable'],
            IntervalSeconds: 2,
            MaxAttempts: 4,
            BackoffRate: 2,
            JitterStrategy: 'FULL',
          },
        ],
        Catch: [{ ErrorEquals: ['InvalidInput', 'UpstreamRejected'], ResultPath: '$.error', Next: 'NotLookedUp' }],
        Next: 'Delivered?',
      },
      'Delivered?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.receipts', NumericGreaterThan: 0, Next: 'Found' }],
        Default: 'NoReceipts',
      },
      Found: { Type: 'Succeed' },
      NoReceipts: { Type: 'Succeed' },
      NotLookedUp: {
        Type: 'Fail',
        Error: 'LookupRejected',
        Cause: 'Invalid input or Tencent refused the request; see the Catch output.',
      },
    },
  },
};

module.exports = { validate: true, stateMachines: { exportWorkflow, exportWorkflowDistributed, lookupExample } };
