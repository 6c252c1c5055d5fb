import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** CloudWatch metrics as EMF log lines (Powertools), flushed by the handlers once per invocation. */
export const metrics = new Metrics({ namespace: 'SmsStatus', serviceName: 'sms-status' });

export { MetricUnit };
