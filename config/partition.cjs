// The AWS partition of the region deployed to, for the few ARNs CloudFormation cannot build with
// { Ref: AWS::Partition } (a Step Functions definition's service-integration resources).
module.exports = async ({ resolveVariable }) => {
  const region = await resolveVariable('self:provider.region');
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
};
