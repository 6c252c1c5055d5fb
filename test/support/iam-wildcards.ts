/**
 * IAM actions that take no resource: IAM can only grant them on Resource "*". X-Ray's (active tracing),
 * CloudWatch Logs' log delivery as Step Functions uses it (its documentation's policy: these "do not support
 * resource types"), and CloudWatch's PutMetricData. The only actions a Resource::* may be accepted for.
 */
export const RESOURCELESS_ACTIONS: readonly string[] = [
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'cloudwatch:PutMetricData',
];

/** The Allow statements of a role's inline policies that grant on Resource "*". */
export function wildcardStatements(role: any): any[] {
  return (role.Properties.Policies ?? [])
    .flatMap((policy: any) => policy.PolicyDocument.Statement)
    .filter((statement: any) => statement.Effect === 'Allow' && [statement.Resource].flat().includes('*'));
}
