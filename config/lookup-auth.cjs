// How the lookup GET authenticates callers on AWS (LOOKUP_AUTH), decided at package time (docs/edge.md):
// `api-key`: the header x-api-key, with the key's usage plan throttled at the lookup's share of Tencent's
// rate (config/budget.cjs); `iam`: SigV4 (AWS_IAM), for callers inside AWS holding execute-api:Invoke, and
// no API key nor usage plan. The callback keeps its path token either way.
const MODES = ['api-key', 'iam'];

function modeOf(raw) {
  if (!MODES.includes(raw)) throw new Error(`LOOKUP_AUTH must be ${MODES.join(' or ')}, not ${JSON.stringify(raw)}`);
  return raw;
}

/**
 * The usage plan the framework makes from provider.apiGateway.apiKeys, throttled. Set here and not in
 * provider.apiGateway.usagePlan: the rate may be fractional, which API Gateway takes and the framework's
 * schema does not. Per API key: a second key in this plan would double what can reach the lookup.
 */
function usagePlanThrottle(edge) {
  return {
    extensions: {
      ApiGatewayUsagePlan: { Properties: { Throttle: { RateLimit: edge.rateLimit, BurstLimit: edge.burstLimit } } },
    },
  };
}

module.exports = async ({ resolveVariable }) => {
  const mode = modeOf(await resolveVariable('param:lookupAuth'));
  if (mode === 'iam') return { mode, apiKeys: null, private: false, authorizer: 'aws_iam', resources: {} };
  const stage = await resolveVariable('sls:stage');
  const edge = await resolveVariable('self:custom.budget.lookup.edge');
  return {
    mode,
    apiKeys: [{ name: `sms-status-${stage}`, value: await resolveVariable('env:SMS_STATUS_API_KEY, null') }],
    private: true,
    authorizer: null,
    resources: usagePlanThrottle(edge),
  };
};
