// Least-privilege statements, built once from the deployment's parameters. Nothing here grants an
// action on Resource "*" but X-Ray's, which has no resources to name.
function secretStatements(secretArn) {
  return secretArn ? [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn }] : [];
}

/** Active tracing (provider.tracing.lambda): the framework grants this to its default role only. */
const XRAY = { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' };

/** Reading an SSE-KMS object (or a secret under the key) needs Decrypt; writing one, GenerateDataKey too. */
const KMS_READ = ['kms:Decrypt'];
const KMS_READ_WRITE = ['kms:Decrypt', 'kms:GenerateDataKey'];

/** The statements for the lake's KMS key (KMS_KEY_ARN), or none when the lake is SSE-S3. */
function kmsStatements(kmsKeyArn, actions) {
  return kmsKeyArn ? [{ Effect: 'Allow', Action: actions, Resource: kmsKeyArn }] : [];
}

/** A key's ARN, as IAM needs it: an alias or a bare key id would match no request. */
function checkKmsKeyArn(kmsKeyArn) {
  if (kmsKeyArn && !/^arn:aws[\w-]*:kms:[\w-]+:\d{12}:key\/[\w-]+$/.test(kmsKeyArn)) {
    throw new Error(
      `KMS_KEY_ARN must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not ${JSON.stringify(kmsKeyArn)}`,
    );
  }
  return kmsKeyArn;
}

/** `s3://bucket/folder` or `bucket/folder/` as `bucket/folder/`: a prefix that names a folder, never `folder*` siblings. */
function folderOf(prefix) {
  const path = prefix.replace(/^s3:\/\//, '');
  return path.endsWith('/') ? path : `${path}/`;
}

function manifestResource(bucket, manifest, manifestPrefix) {
  if (manifestPrefix) return s3Arn(`${folderOf(manifestPrefix)}*`);
  // Without a manifest prefix, only the configured manifest itself, or the bucket's manifests/ folder.
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(manifest || '');
  return s3Arn(match ? `${match[1]}/${match[2]}` : `${bucket}/manifests/*`);
}

/** An S3 ARN in the stack's partition (aws, aws-cn, aws-us-gov). */
function s3Arn(resource) {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', resource]] };
}

function logStatement(stage, name) {
  const arn = {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':logs:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:log-group:/aws/lambda/sms-status-${stage}-${name}:*`,
      ],
    ],
  };
  return { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn };
}

/**
 * The callback receiver only adds objects to the inbox (and reads its token's secret); the drain reads,
 * merges and deletes under the inbox, the lake and the quarantine, writes the lake's ledger of rebuilt
 * objects (_lake/), keeps the events of its merges in the outbox until EventBridge takes them (_outbox/,
 * listed by its sweep), publishes them, and lists the inbox. Listing also covers statuses/: without s3:ListBucket, S3
 * answers 403 instead of 404 for a day object not yet written.
 */
function pushStatements({ stage, bucket, prefix, callbackTokenArn, kmsKeyArn, putEvents }) {
  const folders = ['_inbox', 'statuses', '_quarantine', '_lake', '_outbox'];
  return {
    callback: [
      logStatement(stage, 'callback'),
      XRAY,
      { Effect: 'Allow', Action: 's3:PutObject', Resource: s3Arn(`${bucket}/${prefix}/_inbox/*`) },
      ...secretStatements(callbackTokenArn),
      // Writes to the lake (a multipart upload decrypts its parts too), and reads its token's secret.
      ...kmsStatements(kmsKeyArn, KMS_READ_WRITE),
    ],
    inbox: [
      logStatement(stage, 'inbox'),
      XRAY,
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: folders.map((folder) => s3Arn(`${bucket}/${prefix}/${folder}/*`)),
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: s3Arn(bucket),
        Condition: {
          StringLike: { 's3:prefix': [`${prefix}/_inbox/*`, `${prefix}/statuses/*`, `${prefix}/_outbox/*`] },
        },
      },
      ...kmsStatements(kmsKeyArn, KMS_READ_WRITE),
      ...putEvents,
      // Its asynchronous invocations' on-failure destination (serverless.yml): Lambda sends as the function.
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['ExportFailuresQueue', 'Arn'] } },
    ],
    // EventBridge Scheduler's role for the drain's schedule: invoking the drain, nothing else.
    inboxSchedule: [
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: ['', ':*'].map((qualifier) => ({
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':lambda:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              `:function:sms-status-${stage}-inbox${qualifier}`,
            ],
          ],
        })),
      },
    ],
  };
}

module.exports = async ({ resolveVariable }) => {
  const bucket = await resolveVariable('param:exportBucket');
  const prefix = await resolveVariable('param:exportPrefix');
  const secretArn = await resolveVariable('param:secretArn');
  const manifest = await resolveVariable('param:exportManifest');
  const manifestPrefix = await resolveVariable('param:exportManifestPrefix');
  const stage = await resolveVariable('sls:stage');
  const callbackTokenArn = await resolveVariable('param:callbackTokenArn');
  const kmsKeyArn = checkKmsKeyArn(await resolveVariable('param:kmsKeyArn'));
  // events:PutEvents on the delivery events' bus (config/events.cjs), for the writers of the lake.
  const putEvents = await resolveVariable('self:custom.events.statements');
  return {
    lookup: [
      logStatement(stage, 'lookup'),
      XRAY,
      // Lookups past Tencent's 7 days read the lake's day objects; nothing else of the bucket, no writes.
      { Effect: 'Allow', Action: 's3:GetObject', Resource: s3Arn(`${bucket}/${prefix}/statuses/*`) },
      ...secretStatements(secretArn),
      // Reads only: the lake's objects and the Tencent secret, when under the key.
      ...kmsStatements(kmsKeyArn, KMS_READ),
    ],
    // The default role: the framework adds its log groups and X-Ray.
    export: [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: s3Arn(`${bucket}/${prefix}/*`),
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: s3Arn(bucket),
        Condition: { StringLike: { 's3:prefix': [`${prefix}/*`] } },
      },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: manifestResource(bucket, manifest, manifestPrefix) },
      ...secretStatements(secretArn),
      ...kmsStatements(kmsKeyArn, KMS_READ_WRITE),
      ...putEvents,
    ],
    // The Distributed Map's state machine role (added to what serverless-step-functions generates): its
    // item reader reads the shard list the plan wrote to the lake.
    workflow: kmsStatements(kmsKeyArn, KMS_READ),
    ...pushStatements({ stage, bucket, prefix, callbackTokenArn, kmsKeyArn, putEvents }),
  };
};
