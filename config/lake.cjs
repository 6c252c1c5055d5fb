// What the lake's bucket (resources/lake.yml) takes from the deployment's settings, decided at package time
// so the template carries no condition: its encryption (KMS_KEY_ARN; the Athena results' too) and its server
// access logs
// (LAKE_ACCESS_LOGS, ACCESS_LOG_RETENTION_DAYS) with the log bucket they go to.
const NO_VALUE = { Ref: 'AWS::NoValue' };
const LOG_BUCKET = 'LakeAccessLogBucket';

/** SSE-KMS with the key of KMS_KEY_ARN (the roles get kms:* on it in config/iam.cjs), or SSE-S3. */
function encryption(kmsKeyArn) {
  const byDefault = kmsKeyArn ? { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: kmsKeyArn } : { SSEAlgorithm: 'AES256' };
  // The bucket key cuts KMS requests to one per object per few minutes.
  return { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: byDefault, BucketKeyEnabled: true }] };
}

function retentionDays(raw) {
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new Error(
      `ACCESS_LOG_RETENTION_DAYS must be a whole number of days from 1 to 3650, not ${JSON.stringify(raw)}`,
    );
  }
  return days;
}

/**
 * The access-log bucket, locked down like the lake: no public access, TLS only, owner-enforced, encrypted.
 * SSE-S3 whatever KMS_KEY_ARN says: S3 delivers server access logs only to SSE-S3 buckets. Only the S3
 * logging service may write, and only the lake's logs. It is not logged itself (its own S1 is accepted).
 */
function logBucket(lakeBucket, days) {
  const arn = { 'Fn::GetAtt': [LOG_BUCKET, 'Arn'] };
  const objects = { 'Fn::Join': ['', [arn, '/*']] };
  const lake = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${lakeBucket}`]] };
  return {
    [LOG_BUCKET]: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: encryption(''),
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            { Id: 'expire-access-logs', Status: 'Enabled', ExpirationInDays: days },
            {
              Id: 'abort-incomplete-uploads',
              Status: 'Enabled',
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
          ],
        },
      },
    },
    [`${LOG_BUCKET}Policy`]: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: LOG_BUCKET },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [arn, objects],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            {
              Sid: 'S3ServerAccessLogs',
              Effect: 'Allow',
              Principal: { Service: 'logging.s3.amazonaws.com' },
              Action: 's3:PutObject',
              Resource: objects,
              Condition: {
                ArnLike: { 'aws:SourceArn': lake },
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              },
            },
          ],
        },
      },
    },
  };
}

module.exports = async ({ resolveVariable }) => {
  const kmsKeyArn = await resolveVariable('param:kmsKeyArn');
  const bucket = await resolveVariable('param:exportBucket');
  const accessLogs = await resolveVariable('param:lakeAccessLogs');
  const days = retentionDays(await resolveVariable('param:accessLogRetentionDays'));
  return {
    encryption: encryption(kmsKeyArn),
    // The Athena workgroup's results (resources/athena.yml), under the key of the bucket they land in.
    athenaEncryption: kmsKeyArn ? { EncryptionOption: 'SSE_KMS', KmsKey: kmsKeyArn } : { EncryptionOption: 'SSE_S3' },
    // Partitioned by day of the request, ready for Athena.
    logging: accessLogs
      ? {
          DestinationBucketName: { Ref: LOG_BUCKET },
          TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' } },
        }
      : NO_VALUE,
    resources: { Resources: accessLogs ? logBucket(bucket, days) : {} },
  };
};
