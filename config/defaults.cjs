// Every configuration variable, once: its default (absent when it has none) and, for numbers, the bounds
// lib/config.ts enforces. Read by lib/config.ts (the functions and the CLI), by config/params.cjs (the
// deployment's parameters in serverless.yml), by local/ (npm start) and by test/unit/config-defaults.test.ts,
// which holds README.md's Configuration table to these values. CommonJS without dependencies, so that
// Serverless can require it and esbuild can bundle it into every function.
//
// Fields: `default` is the value when the variable is unset or blank; `deployDefault` replaces it in a
// deployed stack (`<stage>` is the stage); `min`/`max` bound a number; `documented: false` marks a
// variable of PRODUCT.md not implemented yet, so not in README.md's table.
const DAY = 86_400;
const PORT = { min: 1, max: 65_535 };

module.exports = {
  // Tencent Cloud
  TENCENTCLOUD_SECRET_ID: {},
  TENCENTCLOUD_SECRET_KEY: {},
  TENCENTCLOUD_SESSION_TOKEN: {},
  /** A Secrets Manager secret holding `{"secretId","secretKey"}`; a deployed stack reads only this. */
  TENCENTCLOUD_SECRET_ARN: {},
  TENCENTCLOUD_REGION: { default: 'ap-guangzhou' },
  SMS_SDK_APP_ID: {},
  TENCENT_SMS_ENDPOINT: { default: 'https://sms.tencentcloudapi.com' },
  TENCENT_TIMEOUT_MS: { default: 5000, min: 100, max: 60_000 },
  /**
   * This deployment's share of Tencent's 20 requests/second per account: stages sharing one Tencent
   * account must split the 20 (e.g. TENCENT_RPS_TOTAL=15 for prod, 5 for dev). config/budget.cjs
   * validates it and splits it between the functions.
   */
  TENCENT_RPS_TOTAL: { default: 20, max: 20 },
  /** Each function's is set by config/budget.cjs; the default is the CLI's. */
  TENCENT_RPS_BUDGET: { default: 10, min: 0.1, max: 20 },

  // The export and the lake
  /** S3 bucket names are global: set EXPORT_BUCKET to a name of your own before deploying. */
  EXPORT_BUCKET: { deployDefault: 'sms-status-<stage>-exports' },
  EXPORT_PREFIX: { default: 'sms-status' },
  EXPORT_MANIFEST: {},
  /** Local runs only: a deployed export takes its numbers from S3 (EXPORT_MANIFEST). */
  EXPORT_PHONE_NUMBERS: {},
  /**
   * Where manifests given in events may live (s3://bucket/prefix/); by default the configured manifest,
   * or the export bucket's manifests/ folder.
   */
  EXPORT_MANIFEST_PREFIX: {},
  EXPORT_LATENESS_SECONDS: { default: 3600, min: 0, max: 6 * DAY },
  EXPORT_INITIAL_LOOKBACK_SECONDS: { default: DAY, min: 60, max: 7 * DAY },
  EXPORT_CONCURRENCY: { default: 48, min: 1, max: 256 },
  EXPORT_GROUP_CONCURRENCY: { default: 32, min: 1, max: 64 },
  EXPORT_CHUNK_SIZE: { default: 100, min: 1, max: 10_000 },
  EXPORT_RESERVE_MS: { default: 30_000, min: 0, max: 600_000 },
  EXPORT_MANIFEST_MAX_BYTES: { default: 64 * 1024 * 1024, min: 1, max: 1024 * 1024 * 1024 },
  EXPORT_STUCK_AFTER_RUNS: { default: 3, min: 1, max: 1000 },
  /**
   * The daily reconciliation sweep re-pulls the last EXPORT_RECONCILE_SECONDS for receipts carriers
   * report late (docs/lake.md gives its cost).
   */
  EXPORT_RECONCILE_SECONDS: { default: 3 * DAY, min: 3600, max: 7 * DAY },
  EXPORT_RECONCILE_ENABLED: { default: true },
  EXPORT_SCHEDULE_ENABLED: { default: true },
  /**
   * Deployments with lists too long for one Lambda run schedule the workflow instead (and turn the plain
   * schedule off with EXPORT_SCHEDULE_ENABLED=false).
   */
  EXPORT_WORKFLOW_SCHEDULE_ENABLED: { default: false },
  /**
   * The lake's retention: lookups reach back this far, and the bucket expires a day object this many days
   * after its last write (so never before its day is EXPORT_RETENTION_DAYS old).
   */
  EXPORT_RETENTION_DAYS: { default: 400, min: 7, max: 3650 },
  /**
   * Days a replaced or deleted version is kept. Versioning protects against a bad write, but each hourly
   * run rewrites the day objects it touches (and the drain each minute), so a busy day object gathers ~24
   * or more noncurrent versions a day: a few days of them is a useful undo, months are many full copies
   * of the lake.
   */
  EXPORT_NONCURRENT_DAYS: { default: 3 },
  /**
   * A customer managed KMS key (its ARN) for the lake, and the key the Tencent secret is under; unset:
   * SSE-S3 and no KMS permissions at all.
   */
  KMS_KEY_ARN: {},
  /** Server access logs of the lake's bucket, to a log bucket the stack makes (config/lake.cjs); kept this long. */
  LAKE_ACCESS_LOGS: { default: true },
  ACCESS_LOG_RETENTION_DAYS: { default: 90, min: 1, max: 3650 },
  /** The AWS SDK's own override: a local S3 server (path-style). */
  AWS_ENDPOINT_URL_S3: {},

  // The lookup
  /** Most statuses in one lookup answer; a bigger window pages with nextToken (Lambda answers at most 6 MB). */
  LOOKUP_MAX_RECORDS: { default: 10_000, min: 1, max: 50_000 },
  /**
   * How the lookup API authenticates callers on AWS (config/lookup-auth.cjs): `api-key` (x-api-key, usage
   * plan) or `iam` (SigV4, execute-api:Invoke). npm start keeps the API key either way.
   */
  LOOKUP_AUTH: { default: 'api-key' },
  /** The API key's value; unset, AWS generates one (and npm start a random one). */
  SMS_STATUS_API_KEY: {},

  // Tencent's status callback and the inbox (docs/push.md)
  /**
   * The secret path token, given as is (dev) or as a Secrets Manager secret (production); the receiver
   * fails its cold start without one.
   */
  SMS_STATUS_CALLBACK_TOKEN: {},
  SMS_STATUS_CALLBACK_TOKEN_ARN: {},
  TENCENT_CALLBACK_UTC_OFFSET: { default: '+08:00' },
  INBOX_MAX_OBJECTS: { default: 20_000, min: 1, max: 100_000 },
  INBOX_MAX_RECORDS: { default: 200_000, min: 1, max: 2_000_000 },
  INBOX_RESERVE_MS: { default: 60_000, min: 0, max: 600_000 },
  INBOX_SCHEDULE_ENABLED: { default: true },

  // Operations
  /** Read by Powertools itself. */
  POWERTOOLS_LOG_LEVEL: { default: 'INFO' },
  /**
   * API Gateway writes logs through one CloudWatch role per account and region. By default the framework
   * points it at serverlessApiGatewayCloudWatchRole (created if missing), replacing any other role the
   * account had: set true when the account's role is managed elsewhere.
   */
  API_GATEWAY_CLOUDWATCH_ROLE_MANAGED_EXTERNALLY: { default: false },
  /**
   * Alarms (resources/alarms.yml). ALARM_EMAIL: the address an SNS topic mails on ALARM and OK (it must
   * confirm the subscription); unset: no topic, the alarms show in the console only.
   */
  ALARM_EMAIL: {},
  /**
   * The scheduled export's checkpoint age that alarms: the hourly schedule plus two runs' slack (3 h),
   * days before Tencent's 7 days of receipts run out.
   */
  CHECKPOINT_AGE_ALARM_SECONDS: { default: 10_800 },
  /** The API's p99 latency (ms) that alarms: under API Gateway's 29 s integration timeout. */
  LOOKUP_LATENCY_ALARM_MS: { default: 25_000 },

  // Local ports for npm start (the bounds are local/start.ts's)
  HTTP_PORT: { default: 3000, ...PORT },
  LAMBDA_PORT: { default: 3002, ...PORT },
  S3_PORT: { default: 4569, ...PORT },
  TWIN_PORT: { default: 9000, ...PORT },

  // Delivery events (docs/events.md) and delivery health (docs/health.md)
  /** The bus the writers publish to; the stack makes sms-status-<stage> itself, any other names a bus that exists. */
  EVENT_BUS_NAME: { deployDefault: 'sms-status-<stage>' },
  EVENTS_ENABLED: { default: true },
  /** The AWS SDK's own override: npm start points it at its EventBridge stand-in unless it is set. */
  AWS_ENDPOINT_URL_EVENTBRIDGE: {},
  /** Country calling codes with a Receipts dimension of their own; the rest count as `other` (docs/cost.md). */
  METRIC_COUNTRY_CODES: { default: '86,852,853,886,1,44,65,60,81,82' },
  /** The delivery-failure alarm: failed ÷ all over an hour above the ratio, with at least so many receipts. */
  DELIVERY_FAILURE_ALARM_RATIO: { default: 0.2, min: 0, max: 1 },
  DELIVERY_ALARM_MIN_RECEIPTS: { default: 100, min: 1, max: 1_000_000_000 },
};
