import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import SdkSignModule from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js';
import { sha256Hex, sign, signingKeys } from '#lib/tencent/sign.ts';
import { utcDay } from '#lib/utc-day.ts';

// The CommonJS module sets `exports.default`; under Node's ESM loader the default import is the whole
// `exports` object (class at `.default`), under some transforms it is the class itself: accept both.
type SignClass = typeof SdkSignModule.default;
const Sign: SignClass =
  (SdkSignModule as unknown as { default?: SignClass }).default ?? (SdkSignModule as unknown as SignClass);

/** The body of the published CVM DescribeInstances example, `\u` escapes as literal characters. */
const VECTOR_BODY = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
const VECTOR_TIMESTAMP = 1551113065;
const VECTOR_HOST = 'cvm.tencentcloudapi.com';
const VECTOR_CONTENT_TYPE = 'application/json; charset=utf-8';
const VECTOR_BODY_HASH = '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064';

function lastLine(text: string): string {
  return text.slice(text.lastIndexOf('\n') + 1);
}

describe('TC3-HMAC-SHA256 published vectors', () => {
  it('keeps the vector body byte for byte (the \\u escapes are literal)', () => {
    expect(VECTOR_BODY).toContain('\\u672a');
    expect(VECTOR_BODY).toHaveLength(86);
    expect(sha256Hex(VECTOR_BODY)).toBe(VECTOR_BODY_HASH);
    expect(sha256Hex(Buffer.from(VECTOR_BODY))).toBe(VECTOR_BODY_HASH);
  });

  it('reproduces vector A (SignedHeaders content-type;host)', () => {
    const result = sign({
      secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
      secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
      service: 'cvm',
      timestamp: VECTOR_TIMESTAMP,
      headers: { 'Content-Type': VECTOR_CONTENT_TYPE, Host: VECTOR_HOST },
      payload: VECTOR_BODY,
    });
    expect(result.canonicalRequest).toBe(
      [
        'POST',
        '/',
        '',
        `content-type:${VECTOR_CONTENT_TYPE}`,
        `host:${VECTOR_HOST}`,
        '',
        'content-type;host',
        VECTOR_BODY_HASH,
      ].join('\n'),
    );
    expect(sha256Hex(result.canonicalRequest)).toBe('5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
    expect(result.credentialScope).toBe('2019-02-25/cvm/tc3_request');
    expect(result.stringToSign).toBe(
      'TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
    );
    expect(result.signedHeaders).toBe('content-type;host');
    expect(result.signature).toBe('72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168');
    expect(result.authorization).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, ' +
        'SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
    );
  });

  it('reproduces vector B (SignedHeaders content-type;host;x-tc-action, value lower-cased)', () => {
    const secretKey = '*'.repeat(32);
    const result = sign({
      secretId: 'AKID********************************',
      secretKey,
      service: 'cvm',
      timestamp: VECTOR_TIMESTAMP,
      headers: { 'Content-Type': VECTOR_CONTENT_TYPE, Host: VECTOR_HOST, 'X-TC-Action': 'DescribeInstances' },
      payload: Buffer.from(VECTOR_BODY),
    });
    expect(result.canonicalRequest).toBe(
      [
        'POST',
        '/',
        '',
        `content-type:${VECTOR_CONTENT_TYPE}`,
        `host:${VECTOR_HOST}`,
        'x-tc-action:describeinstances',
        '',
        'content-type;host;x-tc-action',
        VECTOR_BODY_HASH,
      ].join('\n'),
    );
    const hashed = sha256Hex(result.canonicalRequest);
    expect(hashed).toBe('7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84');
    expect(lastLine(result.stringToSign)).toBe(hashed);
    expect(result.signedHeaders).toBe('content-type;host;x-tc-action');

    const keys = signingKeys(secretKey, utcDay(VECTOR_TIMESTAMP), 'cvm');
    expect(keys.kDate.toString('hex')).toBe('da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0');
    expect(keys.kService.toString('hex')).toBe('8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f');
    expect(keys.kSigning.toString('hex')).toBe('b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af');
    expect(result.signature).toBe('10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f');
  });

  it('sorts headers by lower-case name whatever order and case they come in', () => {
    const a = sign({
      secretId: 'id',
      secretKey: 'key',
      service: 'sms',
      timestamp: VECTOR_TIMESTAMP,
      headers: {
        'X-TC-Action': 'PullSmsSendStatusByPhoneNumber',
        HOST: 'sms.tencentcloudapi.com',
        'content-type': 'application/json',
      },
      payload: '{}',
    });
    const b = sign({
      secretId: 'id',
      secretKey: 'key',
      service: 'sms',
      timestamp: VECTOR_TIMESTAMP,
      headers: {
        'Content-Type': ' application/json ',
        'x-tc-action': 'pullsmssendstatusbyphonenumber',
        host: 'sms.tencentcloudapi.com',
      },
      payload: '{}',
    });
    expect(a.signedHeaders).toBe('content-type;host;x-tc-action');
    expect(a.canonicalRequest).toBe(b.canonicalRequest);
    expect(a.signature).toBe(b.signature);
  });
});

describe('credential-scope date', () => {
  it('changes exactly at UTC midnight', () => {
    const midnight = Date.UTC(2019, 1, 25) / 1000; // 2019-02-25T00:00:00Z
    const scope = (timestamp: number) =>
      sign({
        secretId: 'id',
        secretKey: 'key',
        service: 'sms',
        timestamp,
        headers: { 'content-type': 'application/json', host: 'sms.tencentcloudapi.com' },
        payload: '{}',
      }).credentialScope;
    expect(scope(midnight - 1)).toBe('2019-02-24/sms/tc3_request');
    expect(scope(midnight)).toBe('2019-02-25/sms/tc3_request');
    expect(scope(midnight + 86399)).toBe('2019-02-25/sms/tc3_request');
    expect(scope(midnight + 86400)).toBe('2019-02-26/sms/tc3_request');
  });

  it('is the UTC date of the timestamp around every midnight 2019–2035', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2019, 0, 1) / 86_400_000, max: Date.UTC(2035, 11, 31) / 86_400_000 }),
        (day) => {
          const midnight = day * 86400;
          const iso = new Date(midnight * 1000).toISOString().slice(0, 10);
          const before = new Date((midnight - 1) * 1000).toISOString().slice(0, 10);
          expect(iso).not.toBe(before);
          expect(utcDay(midnight)).toBe(iso);
          expect(utcDay(midnight - 1)).toBe(before);
          expect(utcDay(midnight + 86399)).toBe(iso);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('byte-for-byte agreement with the official SDK signer (Sign.sign3)', () => {
  const hosts = ['sms.tencentcloudapi.com', 'sms.ap-guangzhou.tencentcloudapi.com', 'sms.intl.tencentcloudapi.com'];
  const contentTypes = ['application/json', 'application/json; charset=utf-8'];
  const firstDay = Date.UTC(2019, 0, 1) / 86_400_000;
  const lastDay = Date.UTC(2035, 11, 31) / 86_400_000;
  const timestamp = fc
    .tuple(fc.integer({ min: firstDay, max: lastDay }), fc.integer({ min: -3, max: 3 }))
    .map(([day, skew]) => day * 86400 + skew);
  const body = fc.oneof(
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.jsonValue({ stringUnit: 'binary' }).map((value) => JSON.stringify(value)),
    fc.string({ unit: 'binary' }),
  );

  function both(input: {
    secretId: string;
    secretKey: string;
    body: string;
    timestamp: number;
    host: string;
    contentType: string;
  }): { ours: string; sdk: string } {
    const payload = Buffer.from(input.body);
    const sdk = Sign.sign3({
      method: 'POST',
      url: `https://${input.host}/`,
      payload,
      timestamp: input.timestamp,
      service: 'sms',
      secretId: input.secretId,
      secretKey: input.secretKey,
      multipart: false,
      boundary: '',
      headers: { 'Content-Type': input.contentType },
    });
    const ours = sign({
      secretId: input.secretId,
      secretKey: input.secretKey,
      service: 'sms',
      timestamp: input.timestamp,
      headers: { 'content-type': input.contentType, host: input.host },
      payload,
    }).authorization;
    return { ours, sdk };
  }

  it('the SDK signer is loaded and itself matches vector A', () => {
    const authorization = Sign.sign3({
      method: 'POST',
      url: `https://${VECTOR_HOST}/`,
      payload: Buffer.from(VECTOR_BODY),
      timestamp: VECTOR_TIMESTAMP,
      service: 'cvm',
      secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
      secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
      multipart: false,
      boundary: '',
      headers: { 'Content-Type': VECTOR_CONTENT_TYPE },
    });
    expect(authorization).toMatch(/Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168$/);
  });

  it('produces the same Authorization for random keys, bodies, timestamps, hosts and content types', () => {
    fc.assert(
      fc.property(
        fc.record({
          secretId: fc.string({ unit: 'binary' }),
          secretKey: fc.string({ unit: 'binary' }),
          body,
          timestamp,
          host: fc.constantFrom(...hosts),
          contentType: fc.constantFrom(...contentTypes),
        }),
        (input) => {
          const { ours, sdk } = both(input);
          expect(ours).toBe(sdk);
          expect(ours).toContain(`Credential=${input.secretId}/${utcDay(input.timestamp)}/sms/tc3_request, `);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('agrees on a non-ASCII body and a non-ASCII key (UTF-8 bytes, not UTF-16 units)', () => {
    const input = {
      secretId: 'AKID测试',
      secretKey: 'ключ🔑秘密',
      body: JSON.stringify({ PhoneNumber: '+8613711112222', Note: '未命名 ☃ 😀' }),
      timestamp: Date.UTC(2030, 5, 1) / 1000 - 2,
      host: 'sms.intl.tencentcloudapi.com',
      contentType: 'application/json; charset=utf-8',
    };
    const { ours, sdk } = both(input);
    expect(ours).toBe(sdk);
    // Sanity: a one-byte change in the body changes the signature.
    expect(both({ ...input, body: input.body.replace('☃', '☄') }).ours).not.toBe(ours);
  });
});
