import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { TencentConfig } from '#lib/config.ts';
import { UpstreamRejected } from '#lib/errors.ts';
import type { TencentClient } from './client.ts';
import { invalidatesCredentials } from './codes.ts';
import type { CredentialSource, Credentials } from './types.ts';

export function staticCredentials(credentials: Credentials): CredentialSource {
  return { get: () => credentials };
}

/**
 * Reads `{"secretId","secretKey"}` from Secrets Manager once per container and again only after
 * Tencent refused the key (a rotation), so warm invocations cost no AWS call.
 */
export function secretsManagerCredentials(secretArn: string, client?: SecretsManagerClient): CredentialSource {
  let cached: Promise<Credentials> | undefined;
  async function read(): Promise<Credentials> {
    // Loaded on first use: lookups on static credentials never pay for the Secrets Manager client.
    const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    client ??= new SecretsManagerClient({});
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    let parsed: { secretId?: unknown; secretKey?: unknown } | null = null;
    try {
      parsed = JSON.parse(SecretString ?? '{}');
    } catch {
      // Reported below with the shape the secret must have.
    }
    if (typeof parsed?.secretId !== 'string' || typeof parsed.secretKey !== 'string') {
      throw new UpstreamRejected('the Tencent secret must be JSON {"secretId","secretKey"}', { code: 'InvalidSecret' });
    }
    return { secretId: parsed.secretId, secretKey: parsed.secretKey };
  }
  return {
    get() {
      cached ??= read().catch((error: unknown) => {
        cached = undefined;
        throw error;
      });
      return cached;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

export function credentialSource(config: TencentConfig['credentials']): CredentialSource {
  return 'secretArn' in config ? secretsManagerCredentials(config.secretArn) : staticCredentials(config);
}

/** The same client, dropping the cached key whenever Tencent refuses it, so the next request reads it anew. */
export function refreshingCredentials(client: TencentClient, credentials: CredentialSource): TencentClient {
  return {
    async pull(request) {
      try {
        return await client.pull(request);
      } catch (error) {
        if (invalidatesCredentials(error)) credentials.invalidate?.();
        throw error;
      }
    },
  };
}
