import type { IncomingHttpHeaders } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { ALGORITHM, sign } from '#lib/tencent/sign.ts';
import { utcDay } from '#lib/utc-day.ts';

export interface TwinCredentials {
  secretId: string;
  secretKey: string;
  token?: string;
}

export interface AuthFailure {
  code: string;
  message: string;
}

const AUTHORIZATION =
  /^TC3-HMAC-SHA256 Credential=([^/\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const MAX_SKEW_SECONDS = 300;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Verifies a TC3-HMAC-SHA256 request as Tencent documents it. Beside the documented form (host as sent,
 * service `sms`) it accepts what the official Node SDK sends when pointed at a loopback endpoint: `host`
 * signed without the port and the service taken from the endpoint's first label.
 */
export function verify(
  headers: IncomingHttpHeaders,
  body: Buffer,
  credentials: TwinCredentials,
  nowSeconds: number,
): AuthFailure | undefined {
  const authorization = header(headers, 'authorization');
  if (!authorization) return { code: 'AuthFailure.InvalidAuthorization', message: 'Authorization header is missing.' };
  const match = AUTHORIZATION.exec(authorization);
  if (!match)
    return {
      code: 'AuthFailure.InvalidAuthorization',
      message: `Authorization must be ${ALGORITHM} Credential=…, SignedHeaders=…, Signature=….`,
    };
  const [, secretId, date, service, signedHeaders, signature] = match as unknown as string[];
  if (secretId !== credentials.secretId)
    return { code: 'AuthFailure.SecretIdNotFound', message: 'The SecretId is not found.' };
  const timestamp = Number(header(headers, 'x-tc-timestamp'));
  if (!Number.isInteger(timestamp))
    return { code: 'AuthFailure.InvalidAuthorization', message: 'X-TC-Timestamp is not a unix time in seconds.' };
  if (Math.abs(timestamp - nowSeconds) > MAX_SKEW_SECONDS) {
    return {
      code: 'AuthFailure.SignatureExpire',
      message: `Signature expired, timestamp ${timestamp}, server time ${nowSeconds}.`,
    };
  }
  const names = (signedHeaders as string).split(';');
  if (!names.includes('content-type') || !names.includes('host')) {
    return { code: 'AuthFailure.InvalidAuthorization', message: 'SignedHeaders must include content-type and host.' };
  }
  const host = header(headers, 'host') ?? '';
  const hostname = host.replace(/:\d+$/, '');
  if (date !== utcDay(timestamp) || (service !== 'sms' && service !== hostname.split('.')[0])) {
    return { code: 'AuthFailure.SignatureFailure', message: 'The credential scope does not match the request.' };
  }
  const candidates = host === hostname ? [host] : [host, hostname];
  const ok = candidates.some((candidateHost) => {
    const signed: Record<string, string> = {};
    for (const name of names) signed[name] = name === 'host' ? candidateHost : (header(headers, name) ?? '');
    const expected = sign({
      ...credentials,
      service: service as string,
      timestamp,
      headers: signed,
      payload: body,
    }).signature;
    return timingSafeEqual(Buffer.from(expected), Buffer.from(signature as string));
  });
  if (!ok) return { code: 'AuthFailure.SignatureFailure', message: 'The provided credentials could not be validated.' };
  const token = header(headers, 'x-tc-token');
  if ((token ?? '') !== (credentials.token ?? '')) {
    return { code: 'AuthFailure.TokenFailure', message: 'The X-TC-Token does not match these credentials.' };
  }
  return undefined;
}
