/**
 * Delivery receipts are personal data and the Tencent key can send SMS on the customer's bill: every
 * log line passes through here. Phone numbers keep enough to recognise (+86137****2222), secrets and
 * signatures nothing.
 */
const E164_ANYWHERE = /\+[1-9]\d{6,14}/g;
const SIGNATURE = /TC3-HMAC-SHA256 Credential=[^\s",]*(,\s*SignedHeaders=[^\s",]*)?(,\s*Signature=[0-9a-f]*)?/g;
const SECRET_KEYS = /authorization|secret|token|password|credential|signature/i;
const NUMBER_KEYS = /^(phoneNumber|subscriberNumber|PhoneNumber|SubscriberNumber)$/;

export function maskPhoneNumber(number: string): string {
  const digits = number.replace(/^\+/, '');
  const [head, tail] = digits.length >= 11 ? [5, 4] : [2, 2];
  return `${number.startsWith('+') ? '+' : ''}${digits.slice(0, head)}****${digits.slice(-tail)}`;
}

export function redactText(text: string): string {
  return text.replace(SIGNATURE, 'TC3-HMAC-SHA256 [REDACTED]').replace(E164_ANYWHERE, maskPhoneNumber);
}

/** A JSON replacer (Powertools Logger's `jsonReplacerFn`): applied to every key and value logged. */
export function redact(key: string, value: unknown): unknown {
  if (SECRET_KEYS.test(key) && value !== undefined && value !== null && typeof value !== 'object') return '[REDACTED]';
  if (typeof value === 'string') return NUMBER_KEYS.test(key) ? maskPhoneNumber(value) : redactText(value);
  if (value instanceof Error) {
    const { code, requestId, field } = value as Error & { code?: string; requestId?: string; field?: string };
    return { name: value.name, message: redactText(value.message), code, requestId, field, stack: value.stack && redactText(value.stack) };
  }
  return value;
}
