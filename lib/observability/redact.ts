/**
 * Delivery receipts are personal data and the Tencent key can send SMS on the customer's bill: every
 * log line passes through here. A phone number keeps its country code and last four digits
 * (+86*******2222), with or without its plus; secrets and signatures keep nothing.
 */
const E164_ANYWHERE = /(\+|%2[Bb])([1-9]\d{6,14})/g;
/** A bare run of 8–15 digits standing alone (not part of a word, an id, a decimal or a dashed code). */
const BARE_NUMBER = /(?<![\w.%+-])[1-9]\d{7,14}(?![\w.-])/g;
const SIGNATURE = /TC3-HMAC-SHA256 Credential=[^\s",]*(,\s*SignedHeaders=[^\s",]*)?(,\s*Signature=[0-9a-f]*)?/g;
const SECRET_KEYS = /authorization|secret|token|password|credential|signature/i;
const NUMBER_KEYS = /^(phoneNumber|subscriberNumber|PhoneNumber|SubscriberNumber)$/;

/** ITU-T E.164 country calling codes of one and two digits; all others have three. */
const ONE_DIGIT_CODES = new Set(['1', '7']);
const TWO_DIGIT_CODES = new Set(
  '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'.split(
    ' ',
  ),
);

function countryCodeOf(digits: string): string {
  if (ONE_DIGIT_CODES.has(digits.slice(0, 1))) return digits.slice(0, 1);
  return TWO_DIGIT_CODES.has(digits.slice(0, 2)) ? digits.slice(0, 2) : digits.slice(0, 3);
}

/** +8613711112222 → +86*******2222: the country code and at most the last four digits, never fewer than two hidden. */
export function maskPhoneNumber(number: string): string {
  const plus = /^(\+|%2[Bb])/.exec(number)?.[0] ?? '';
  const digits = number.slice(plus.length);
  const head = countryCodeOf(digits);
  const tail = Math.max(0, Math.min(4, digits.length - head.length - 2));
  return `${plus}${head}${'*'.repeat(digits.length - head.length - tail)}${tail ? digits.slice(-tail) : ''}`;
}

export function redactText(text: string): string {
  return text
    .replace(SIGNATURE, 'TC3-HMAC-SHA256 [REDACTED]')
    .replace(E164_ANYWHERE, (match) => maskPhoneNumber(match))
    .replace(BARE_NUMBER, (match) => maskPhoneNumber(match));
}

/** A copy of an object whose keys hold phone numbers (a map by number), the keys masked. */
function withMaskedKeys(value: object): object {
  const entries = Object.entries(value);
  if (!entries.some(([key]) => redactText(key) !== key)) return value;
  return Object.fromEntries(entries.map(([key, item]) => [redactText(key), item]));
}

/** A JSON replacer (Powertools Logger's `jsonReplacerFn`): applied to every key and value logged. */
export function redact(key: string, value: unknown): unknown {
  if (SECRET_KEYS.test(key) && value !== undefined && value !== null && typeof value !== 'object') return '[REDACTED]';
  if (typeof value === 'string')
    return NUMBER_KEYS.test(key) && /^(\+|%2[Bb])?\d+$/.test(value) ? maskPhoneNumber(value) : redactText(value);
  if (value instanceof Error) {
    const { code, requestId, field } = value as Error & { code?: string; requestId?: string; field?: string };
    return {
      name: value.name,
      message: redactText(value.message),
      code,
      requestId,
      field,
      stack: value.stack && redactText(value.stack),
    };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return withMaskedKeys(value);
  return value;
}
