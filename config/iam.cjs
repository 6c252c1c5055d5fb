// Least-privilege statements, built once from the deployment's parameters. Nothing here grants an
// action on Resource "*".
function secretStatements(secretArn) {
  return secretArn ? [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn }] : [];
}

function manifestResource(bucket, manifest, manifestPrefix) {
  if (manifestPrefix) return `arn:aws:s3:::${manifestPrefix.replace(/^s3:\/\//, '')}*`;
  // Without a manifest prefix, only the configured manifest itself, or the bucket's manifests/ folder.
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(manifest || '');
  return match ? `arn:aws:s3:::${match[1]}/${match[2]}` : `arn:aws:s3:::${bucket}/manifests/*`;
}

module.exports = async ({ resolveVariable }) => {
  const bucket = await resolveVariable('param:exportBucket');
  const prefix = await resolveVariable('param:exportPrefix');
  const secretArn = await resolveVariable('param:secretArn');
  const manifest = await resolveVariable('param:exportManifest');
  const manifestPrefix = await resolveVariable('param:exportManifestPrefix');
  const stage = await resolveVariable('sls:stage');
  const logGroup = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:log-group:/aws/lambda/sms-status-${stage}-lookup:*`]],
  };
  return {
    lookup: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: logGroup }, ...secretStatements(secretArn)],
    export: [
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: `arn:aws:s3:::${bucket}/${prefix}/*` },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': [`${prefix}/*`] } } },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: manifestResource(bucket, manifest, manifestPrefix) },
      ...secretStatements(secretArn),
    ],
  };
};
