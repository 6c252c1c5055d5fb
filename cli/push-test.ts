import { randomBytes } from 'node:crypto';
import { callingCodeOf } from '#lib/calling-code.ts';
import { ConfigError } from '#lib/config.ts';
import { parsePhoneNumber } from '#lib/phone-number.ts';
import { callbackReceipt, DEFAULT_UTC_OFFSET, offsetSeconds } from '../local/twin/push-format.ts';

type Values = Record<string, string | boolean | undefined>;

const TIMEOUT_MS = 10_000;

/** A receipt no real message has: its SerialNo says it came from push-test, so it is easy to find and ignore. */
function sampleReceipt(phoneNumber: string, offset: number): object {
  const countryCode = callingCodeOf(phoneNumber);
  if (countryCode === undefined)
    throw new ConfigError('--phone-number', 'has no country calling code of the E.164 plan');
  return callbackReceipt(
    {
      SerialNo: `push-test:${randomBytes(8).toString('hex')}`,
      PhoneNumber: phoneNumber,
      CountryCode: countryCode,
      SubscriberNumber: phoneNumber.slice(1 + countryCode.length),
      ReportStatus: 'SUCCESS',
      Description: 'DELIVRD',
      UserReceiveTime: Math.floor(Date.now() / 1000),
    },
    offset,
  );
}

/**
 * `sms-status push-test <url>`: POSTs one sample receipt in Tencent's callback format to a deployed
 * receiver and prints its answer; exit 0 only for HTTP 200 with `result: 0`, as Tencent expects.
 */
export async function runPushTest(values: Values, positionals: string[]): Promise<number> {
  const [url] = positionals;
  if (!url || !/^https?:\/\//.test(url))
    throw new ConfigError('url', 'must be the callback URL, http(s)://…/v1/callbacks/tencent/<token>');
  const phoneNumber = parsePhoneNumber(
    typeof values['phone-number'] === 'string' ? values['phone-number'] : '+8613711112222',
    'phone-number',
  );
  const offsetText = typeof values['utc-offset'] === 'string' ? values['utc-offset'] : DEFAULT_UTC_OFFSET;
  const offset = offsetSeconds(offsetText);
  if (offset === undefined) throw new ConfigError('--utc-offset', 'must be ±HH:MM, e.g. +08:00');
  const batch = [sampleReceipt(phoneNumber, offset)];
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(batch),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await response.text();
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    // Printed as text: the receiver did not answer JSON, which Tencent would count as a failure too.
  }
  process.stdout.write(`${JSON.stringify({ status: response.status, answer, sent: batch })}\n`);
  return response.status === 200 && (answer as { result?: unknown })?.result === 0 ? 0 : 1;
}
