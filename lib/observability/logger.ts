import { Logger } from '@aws-lambda-powertools/logger';
import { redact } from './redact.ts';

/**
 * The one structured JSON logger (Powertools): POWERTOOLS_LOG_LEVEL sets the level, the handlers add
 * the Lambda request id, the Tencent client adds each RequestId; every line is redacted.
 */
export const logger = new Logger({ serviceName: 'sms-status', jsonReplacerFn: redact });
