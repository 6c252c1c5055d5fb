import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { maskPhoneNumber, redact, redactText } from '#lib/observability/redact.ts';

const SEED = 20261126;
const PHONE = '+8613711112222';
const MASKED = '+86*******2222';
/** An Authorization header as Tencent's TC3 signing (and the official SDK) writes it. */
const AUTHORIZATION =
  'TC3-HMAC-SHA256 Credential=AKID/2026-11-26/sms/tc3_request, SignedHeaders=content-type;host, Signature=abc123';
const SDK_AUTHORIZATION =
  'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2026-11-26/sms/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c';

describe('maskPhoneNumber', () => {
  it('keeps only the country code and the last four digits', () => {
    expect(maskPhoneNumber(PHONE)).toBe(MASKED);
    expect(maskPhoneNumber('+14155550123')).toBe('+1******0123');
    expect(maskPhoneNumber('+123456789012345')).toBe('+1**********2345');
    expect(maskPhoneNumber('+85212345678')).toBe('+852****5678');
    expect(maskPhoneNumber('+447911123456')).toBe('+44******3456');
  });

  it.each(['+1234567', '+12345678', '+3531234567', '+35312345'])(
    'hides at least two digits of the short number %s',
    (number) => {
      const masked = maskPhoneNumber(number);
      expect(masked.startsWith('+')).toBe(true);
      expect((masked.match(/\*/g) ?? []).length).toBeGreaterThanOrEqual(2);
      expect(masked).toHaveLength(number.length);
    },
  );

  it('masks a number without a plus, or with an encoded one, the same way', () => {
    expect(maskPhoneNumber('8613711112222')).toBe('86*******2222');
    expect(maskPhoneNumber('%2B8613711112222')).toBe('%2B86*******2222');
  });
});

describe('redact', () => {
  it.each([
    'authorization',
    'Authorization',
    'secretKey',
    'TENCENTCLOUD_SECRET_KEY',
    'token',
    'sessionToken',
    'password',
    'credentials',
    'signature',
    'X-TC-Signature',
  ])('replaces a primitive value under the key %s', (key) => {
    expect(redact(key, 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE')).toBe('[REDACTED]');
    expect(redact(key, 12345)).toBe('[REDACTED]');
    expect(redact(key, true)).toBe('[REDACTED]');
    expect(redact(key, 10n)).toBe('[REDACTED]');
  });

  it('leaves an absent secret absent, and lets an object under a secret key be walked key by key', () => {
    expect(redact('secretKey', undefined)).toBeUndefined();
    expect(redact('secretKey', null)).toBeNull();
    const nested = { secretId: 'AKIDx', secretKey: 'k', region: 'ap-guangzhou' };
    expect(redact('credentials', nested)).toBe(nested);
    // secretId matches /secret/ too: the key id is not logged either.
    expect(JSON.stringify({ credentials: nested }, redact)).toBe(
      '{"credentials":{"secretId":"[REDACTED]","secretKey":"[REDACTED]","region":"ap-guangzhou"}}',
    );
  });

  it.each(['phoneNumber', 'subscriberNumber', 'PhoneNumber', 'SubscriberNumber'])('masks the value under %s', (key) => {
    expect(redact(key, PHONE)).toBe(MASKED);
    expect(redact(key, '13711112222')).toBe('1******2222');
  });

  it('masks an E.164 number anywhere inside any other string', () => {
    expect(redact('message', `no receipt for ${PHONE} yet`)).toBe(`no receipt for ${MASKED} yet`);
    expect(redact('', `${PHONE},+14155550123`)).toBe(`${MASKED},+1******0123`);
    expect(redact('url', `/v1/phone-numbers/${PHONE}/statuses`)).toBe(`/v1/phone-numbers/${MASKED}/statuses`);
    expect(redact('list', 'nothing to hide')).toBe('nothing to hide');
  });

  it('redacts a TC3 Authorization header inside a string: credential, signed headers and signature', () => {
    const redacted = redact(
      'headers',
      `sent with Authorization: ${AUTHORIZATION} to sms.tencentcloudapi.com`,
    ) as string;
    expect(redacted).toBe('sent with Authorization: TC3-HMAC-SHA256 [REDACTED] to sms.tencentcloudapi.com');
    expect(redactText(`{"Authorization":"${AUTHORIZATION}"}`)).toBe('{"Authorization":"TC3-HMAC-SHA256 [REDACTED]"}');
    expect(redactText(AUTHORIZATION)).toBe('TC3-HMAC-SHA256 [REDACTED]');
  });

  it('redacts the Authorization header the official SDK writes, wherever it appears', () => {
    for (const text of [SDK_AUTHORIZATION, `request failed; headers: Authorization=${SDK_AUTHORIZATION}; retrying`]) {
      const redacted = redactText(text);
      expect(redacted).toContain('TC3-HMAC-SHA256 [REDACTED]');
      expect(redacted).not.toContain('AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE');
      expect(redacted).not.toContain('Signature=');
      expect(redacted).not.toContain('2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c');
    }
    const json = JSON.stringify({ error: new Error(`Tencent said no to ${SDK_AUTHORIZATION}`) }, redact);
    expect(json).not.toContain('2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c');
  });

  it('turns an Error into an object with masked message and stack, keeping name, code, requestId and field', () => {
    const error = Object.assign(new Error(`Tencent refused ${PHONE} for +14155550123`), {
      name: 'InvalidInput',
      code: 'InvalidParameterValue.IncorrectPhoneNumber',
      requestId: 'req-1',
      field: 'phoneNumber',
    });
    const out = redact('error', error) as Record<string, unknown>;
    expect(out).not.toBeInstanceOf(Error);
    expect(out).toMatchObject({
      name: 'InvalidInput',
      code: 'InvalidParameterValue.IncorrectPhoneNumber',
      requestId: 'req-1',
      field: 'phoneNumber',
    });
    expect(out.message).toBe(`Tencent refused ${MASKED} for +1******0123`);
    expect(typeof out.stack).toBe('string');
    expect(out.stack).toContain(MASKED);
    expect(out.stack).not.toContain(PHONE);
    expect(out.stack).not.toContain('+14155550123');
    const json = JSON.stringify({ error }, redact);
    expect(json).not.toContain(PHONE);
    expect(json).toContain(MASKED);
  });

  it('passes numbers, booleans and objects under ordinary keys through', () => {
    expect(redact('statuses', 3)).toBe(3);
    expect(redact('complete', false)).toBe(false);
    const value = { a: 1 };
    expect(redact('figures', value)).toBe(value);
  });

  it('JSON.stringify with redact never shows an E.164 number unmasked, wherever it sits in a string', () => {
    const number = fc.stringMatching(/^\+[1-9]\d{6,14}$/);
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[+0-9 ,;/:=a-z]{0,12}$/));
    const key = fc.oneof(
      fc.string(),
      fc.constantFrom(
        'message',
        'phoneNumber',
        'PhoneNumber',
        'subscriberNumber',
        'url',
        'authorization',
        'detail',
        '0',
      ),
    );
    const place = fc.constantFrom<Array<(s: string, k: string) => unknown>>(
      (s) => s,
      (s, k) => ({ [k]: s }),
      (s, k) => ({ outer: { [k]: [s, 1, null] } }),
      (s) => [s, { phoneNumber: s }],
      (s, k) => ({ error: Object.assign(new Error(s), { field: k }) }),
      (s) => ({ errors: [new Error(s)] }),
      (s, k) => ({ phoneNumber: s, [k]: { subscriberNumber: s, message: `lookup of ${s}` } }),
    );
    fc.assert(
      fc.property(number, text, text, key, place, (phone, before, after, k, put) => {
        const value = `${before}${phone}${after}`;
        const json = JSON.stringify(put(value, k), redact);
        expect(json).not.toContain(phone);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('masks bare digit runs, URL-encoded pluses and numbers used as keys, but not ids, times or decimals', () => {
    expect(redactText('retrying 8613711112222 now')).toBe('retrying 86*******2222 now');
    expect(redactText('/v1/phone-numbers/%2B8613711112222/statuses')).toBe(
      '/v1/phone-numbers/%2B86*******2222/statuses',
    );
    expect(JSON.stringify({ byNumber: { '+8613711112222': 3, '13711112222': 1 } }, redact)).toBe(
      '{"byNumber":{"+86*******2222":3,"1******2222":1}}',
    );
    for (const kept of [
      '2026-11-27T17:06:20.786Z',
      'rid 12345678-aaaa-bbbb-cccc-1234567890ab',
      'pi 3.14159265358',
      '2433:8613711112222abcdef',
      'took 1234567 ms',
    ]) {
      expect(redactText(kept)).toBe(kept);
    }
  });
});

describe('masking: no number of 8–15 digits survives, with or without +, in messages, keys or nested objects', () => {
  const digits = fc.stringMatching(/^[1-9]\d{7,14}$/);
  const prefix = fc.constantFrom('+', '', '%2B');
  const separator = fc.constantFrom(' ', '/', ',', ':', '=', '"', '(', ')', '\n', '');
  const words = fc.stringMatching(/^[a-z ]{0,10}$/);
  const place = fc.constantFrom<Array<(s: string, n: string) => unknown>>(
    (s) => ({ message: s }),
    (s) => ({ detail: { nested: [s] } }),
    (_s, n) => ({ counts: { [n]: 1 } }),
    (_s, n) => ({ outer: { inner: { [n]: { phoneNumber: n } } } }),
    (s) => ({ error: new Error(s) }),
    (_s, n) => ({ phoneNumber: n, subscriberNumber: n.replace(/^(\+|%2B)/, '') }),
  );
  it('keeps only the country code and the last four digits', () => {
    fc.assert(
      fc.property(
        digits,
        prefix,
        separator,
        separator,
        words,
        words,
        place,
        (number, plus, left, right, before, after, put) => {
          const written = `${plus}${number}`;
          // A separator keeps the number apart from the words around it, as in any log line.
          const text = `${before}${before && !left ? ' ' : left}${written}${after && !right ? ' ' : right}${after}`;
          const json = JSON.stringify(put(text, written), redact);
          expect(json).not.toContain(number);
          const masked = maskPhoneNumber(written);
          expect(json).toContain(masked.replace(/^(\+|%2B)/, ''));
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
