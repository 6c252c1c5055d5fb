// Least-privilege statements, built once from the deployment's parameters. Nothing here grants an
// action on Resource "*".
function secretStatements(secretArn) {
  return secretArn ? [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn }] : [];
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
  const arn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:log-group:/aws/lambda/sms-status-${stage}-${name}:*`]] };
  return { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn };
}

/**
 * The callback receiver only adds objects to the inbox (and reads its token's secret); the drain reads,
 * merges and deletes under the inbox, the lake and the quarantine, and lists the inbox. Listing also
 * covers statuses/: without s3:ListBucket, S3 answers 403 instead of 404 for a day object not yet written.
 */
function pushStatements({ stage, bucket, prefix, callbackTokenArn }) {
  const folders = ['_inbox', 'statuses', '_quarantine'];
  return {
    callback: [
      logStatement(stage, 'callback'),
      { Effect: 'Allow', Action: 's3:PutObject', Resource: s3Arn(`${bucket}/${prefix}/_inbox/*`) },
      ...secretStatements(callbackTokenArn),
    ],
    inbox: [
      logStatement(stage, 'inbox'),
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: folders.map((folder) => s3Arn(`${bucket}/${prefix}/${folder}/*`)) },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: s3Arn(bucket), Condition: { StringLike: { 's3:prefix': [`${prefix}/_inbox/*`, `${prefix}/statuses/*`] } } },
    ],
    // EventBridge Scheduler's role for the drain's schedule: invoking the drain, nothing else.
    inboxSchedule: [
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: ['', ':*'].map((qualifier) => ({
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:function:sms-status-${stage}-inbox${qualifier}`]],
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
  return {
    lookup: [
      logStatement(stage, 'lookup'),
      // Lookups past Tencent's 7 days read the lake's day objects; nothing else of the bucket, no writes.
      { Effect: 'Allow', Action: 's3:GetObject', Resource: s3Arn(`${bucket}/${prefix}/statuses/*`) },
      ...secretStatements(secretArn),
    ],
    export: [
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: s3Arn(`${bucket}/${prefix}/*`) },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: s3Arn(bucket), Condition: { StringLike: { 's3:prefix': [`${prefix}/*`] } } },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: manifestResource(bucket, manifest, manifestPrefix) },
      ...secretStatements(secretArn),
    ],
    ...pushStatements({ stage, bucket, prefix, callbackTokenArn }),
  };
};
