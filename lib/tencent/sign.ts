import { utcDay } from '#lib/utc-day.ts';

// getBuiltinModule skips building node:crypto's ESM namespace (several ms of every cold start).
const { createHash, createHmac } = process.getBuiltinModule('node:crypto');

/** TC3-HMAC-SHA256, as documented in Tencent Cloud API 3.0 "Signature v3". */
export const ALGORITHM = 'TC3-HMAC-SHA256';

export interface SignInput {
  secretId: string;
  secretKey: string;
  /** Credential-scope service, `sms` for this product. */
  service: string;
  /** Unix seconds; also selects the UTC date of the credential scope. */
  timestamp: number;
  /** Headers to sign, any case; `content-type` and `host` are mandatory. */
  headers: Record<string, string>;
  /** The exact bytes sent as the body. */
  payload: string | Uint8Array;
  method?: string;
  path?: string;
  query?: string;
}

export interface Signature {
  authorization: string;
  signature: string;
  signedHeaders: string;
  credentialScope: string;
  canonicalRequest: string;
  stringToSign: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Uint8Array, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function signingKeys(secretKey: string, date: string, service: string) {
  const kDate = hmac('TC3' + secretKey, date);
  const kService = hmac(kDate, service);
  const kSigning = hmac(kService, 'tc3_request');
  return { kDate, kService, kSigning };
}

/**
 * The signing key depends only on the secret, the UTC date and the service, and deriving it costs three
 * HMACs (most of a signature's CPU): keep the last one, as AWS's SigV4 signers do.
 */
let lastKey: { secretKey: string; date: string; service: string; kSigning: Buffer } | undefined;

function cachedSigningKey(secretKey: string, date: string, service: string): Buffer {
  if (lastKey?.secretKey !== secretKey || lastKey.date !== date || lastKey.service !== service) {
    lastKey = { secretKey, date, service, kSigning: signingKeys(secretKey, date, service).kSigning };
  }
  return lastKey.kSigning;
}

function canonicalHeaders(headers: Record<string, string>): { canonical: string; signed: string } {
  const entries = Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value.trim().toLowerCase()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    canonical: entries.map(([name, value]) => `${name}:${value}\n`).join(''),
    signed: entries.map(([name]) => name).join(';'),
  };
}

export function sign(input: SignInput): Signature {
  const { canonical, signed } = canonicalHeaders(input.headers);
  const canonicalRequest = [
    input.method ?? 'POST',
    input.path ?? '/',
    input.query ?? '',
    canonical,
    signed,
    sha256Hex(input.payload),
  ].join('\n');
  const date = utcDay(input.timestamp);
  const credentialScope = `${date}/${input.service}/tc3_request`;
  const stringToSign = [ALGORITHM, String(input.timestamp), credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const kSigning = cachedSigningKey(input.secretKey, date, input.service);
  const signature = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  return {
    authorization: `${ALGORITHM} Credential=${input.secretId}/${credentialScope}, SignedHeaders=${signed}, Signature=${signature}`,
    signature,
    signedHeaders: signed,
    credentialScope,
    canonicalRequest,
    stringToSign,
  };
}
