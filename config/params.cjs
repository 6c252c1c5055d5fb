// The deployment's parameters (serverless.yml `params`): each reads its environment variable, and when
// that is unset its default from config/defaults.cjs, so no default is written twice. Each is read as
// `${env:NAME, 'default'}` was, through Serverless's own resolver: a set variable is taken as is (a blank
// one too), and a boolean goes through strToBool, which refuses anything but true, false, 1 and 0.
const DEFAULTS = require('./defaults.cjs');

/** Parameter → the variable it reads. */
const PARAMS = {
  tencentRegion: 'TENCENTCLOUD_REGION',
  tencentEndpoint: 'TENCENT_SMS_ENDPOINT',
  sdkAppId: 'SMS_SDK_APP_ID',
  secretArn: 'TENCENTCLOUD_SECRET_ARN',
  exportBucket: 'EXPORT_BUCKET',
  exportPrefix: 'EXPORT_PREFIX',
  exportManifest: 'EXPORT_MANIFEST',
  exportManifestPrefix: 'EXPORT_MANIFEST_PREFIX',
  exportScheduleEnabled: 'EXPORT_SCHEDULE_ENABLED',
  exportWorkflowScheduleEnabled: 'EXPORT_WORKFLOW_SCHEDULE_ENABLED',
  exportReconcileEnabled: 'EXPORT_RECONCILE_ENABLED',
  exportReconcileSeconds: 'EXPORT_RECONCILE_SECONDS',
  exportStuckAfterRuns: 'EXPORT_STUCK_AFTER_RUNS',
  tencentRpsTotal: 'TENCENT_RPS_TOTAL',
  callbackToken: 'SMS_STATUS_CALLBACK_TOKEN',
  callbackTokenArn: 'SMS_STATUS_CALLBACK_TOKEN_ARN',
  callbackUtcOffset: 'TENCENT_CALLBACK_UTC_OFFSET',
  inboxScheduleEnabled: 'INBOX_SCHEDULE_ENABLED',
  exportRetentionDays: 'EXPORT_RETENTION_DAYS',
  lookupMaxRecords: 'LOOKUP_MAX_RECORDS',
  exportNoncurrentDays: 'EXPORT_NONCURRENT_DAYS',
  kmsKeyArn: 'KMS_KEY_ARN',
  lakeAccessLogs: 'LAKE_ACCESS_LOGS',
  accessLogRetentionDays: 'ACCESS_LOG_RETENTION_DAYS',
  lookupAuth: 'LOOKUP_AUTH',
  apiGatewayCloudWatchRoleManagedExternally: 'API_GATEWAY_CLOUDWATCH_ROLE_MANAGED_EXTERNALLY',
  alarmEmail: 'ALARM_EMAIL',
  checkpointAgeAlarmSeconds: 'CHECKPOINT_AGE_ALARM_SECONDS',
  lookupLatencyAlarmMs: 'LOOKUP_LATENCY_ALARM_MS',
  eventBusName: 'EVENT_BUS_NAME',
  eventsEnabled: 'EVENTS_ENABLED',
  metricCountryCodes: 'METRIC_COUNTRY_CODES',
  deliveryFailureAlarmRatio: 'DELIVERY_FAILURE_ALARM_RATIO',
  deliveryAlarmMinReceipts: 'DELIVERY_ALARM_MIN_RECEIPTS',
  // serverless-offline's ports (custom.serverless-offline).
  httpPort: 'HTTP_PORT',
  lambdaPort: 'LAMBDA_PORT',
};

/** The variable string that reads `name` (as `${…}` holds it): a number's default as its text, none as ''. */
function variableFor(name, stage) {
  const { default: value = '', deployDefault = value } = DEFAULTS[name];
  const read = `env:${name}, '${String(deployDefault).replaceAll('<stage>', stage)}'`;
  return typeof value === 'boolean' ? `strToBool(\${${read}})` : read;
}

/** An error Serverless prints as its message alone, naming the variable (it prints a thrown error's stack). */
function naming(name, error) {
  const named = new Error(`${name}: ${error.message.replace(/^Cannot resolve variable at "params": /, '')}`);
  named.stack = `Error: ${named.message}`;
  return named;
}

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('self:provider.stage');
  const read = async ([param, name]) => {
    try {
      return [param, await resolveVariable(variableFor(name, stage))];
    } catch (error) {
      throw naming(name, error);
    }
  };
  const values = await Promise.all(Object.entries(PARAMS).map(read));
  return { default: Object.fromEntries(values) };
};
