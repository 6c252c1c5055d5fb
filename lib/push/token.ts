import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, MIN_CALLBACK_TOKEN_LENGTH, type CallbackConfig } from '#lib/config.ts';

/** Answers whether the path's token is the configured one, in time that does not depend on where they differ. */
export type TokenCheck = (given: string) => Promise<boolean>;

/** A token rotated in Secrets Manager is read again after a mismatch, at most this often. */
const REFRESH_AFTER_MS = 5 * 60_000;

/** One Secrets Manager client per container, made on first use. */
let secretsClient: SecretsManagerClient | undefined;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Both sides hashed first: equal lengths for timingSafeEqual, and nothing learnt from the token's length. */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function tokenCheck(
  config: CallbackConfig['token'],
  client?: SecretsManagerClient,
  now: () => number = Date.now,
): TokenCheck {
  if ('token' in config) return async (given) => sameToken(given, config.token);
  let cached: Promise<{ token: string; readAt: number }> | undefined;
  const load = (): Promise<{ token: string; readAt: number }> => {
    cached = readSecretToken(config.secretArn, client).then(
      (token) => ({ token, readAt: now() }),
      (error: unknown) => {
        cached = undefined;
        throw error;
      },
    );
    return cached;
  };
  return async (given) => {
    const current = await (cached ?? load());
    if (sameToken(given, current.token)) return true;
    if (now() - current.readAt < REFRESH_AFTER_MS) return false;
    return sameToken(given, (await load()).token);
  };
}

/**
 * The token from Secrets Manager: the SecretString itself, or `{"token": "…"}`. Read once per container
 * (and again after a mismatch, at most every 5 minutes, so a rotation is picked up).
 */
async function readSecretToken(secretArn: string, client?: SecretsManagerClient): Promise<string> {
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  secretsClient = client ?? secretsClient ?? new SecretsManagerClient({});
  const { SecretString = '' } = await secretsClient.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let token = SecretString.trim();
  if (token.startsWith('{')) {
    try {
      token = String((JSON.parse(token) as { token?: unknown }).token ?? '');
    } catch {
      token = '';
    }
  }
  if (token.length < MIN_CALLBACK_TOKEN_LENGTH) {
    throw new ConfigError(
      'SMS_STATUS_CALLBACK_TOKEN_ARN',
      `must name a secret holding a token of at least ${MIN_CALLBACK_TOKEN_LENGTH} characters`,
    );
  }
  return token;
}
