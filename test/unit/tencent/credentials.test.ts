import { beforeEach, describe, expect, it, vi } from 'vitest';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { credentialSource, secretsManagerCredentials, staticCredentials } from '#lib/tencent/credentials.ts';
import { UpstreamRejected } from '#lib/errors.ts';
import type { Credentials } from '#lib/tencent/types.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sms-status/tencent-AbCdEf';
const SECRET = { secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE', secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE' };

/**
 * The SDK's own client, for the one path that builds it (credentialSource with a secretArn): it
 * answers from `sdk.secret` and records what it was sent. Everything else in the module is real.
 */
const sdk = vi.hoisted(() => ({ sent: [] as unknown[], secret: '', clients: 0 }));
vi.mock(import('@aws-sdk/client-secrets-manager'), async (importOriginal) => {
  const original = await importOriginal();
  class FakeSecretsManagerClient {
    constructor() {
      sdk.clients += 1;
    }
    async send(command: unknown): Promise<{ SecretString: string }> {
      sdk.sent.push(command);
      return { SecretString: sdk.secret };
    }
  }
  return {
    ...original,
    SecretsManagerClient: FakeSecretsManagerClient as unknown as typeof original.SecretsManagerClient,
  };
});

interface FakeClient {
  calls: number;
  commands: unknown[];
  /** What the next send does: answer with a SecretString (or none), or fail. */
  answer: () => Promise<{ SecretString?: string }>;
  client: SecretsManagerClient;
}

/** A Secrets Manager client answering with `response` (a binary secret has no SecretString). */
function fakeClient(response: { SecretString?: string } = { SecretString: JSON.stringify(SECRET) }): FakeClient {
  const fake: FakeClient = {
    calls: 0,
    commands: [],
    answer: async () => response,
    client: undefined as unknown as SecretsManagerClient,
  };
  fake.client = {
    send: async (command: unknown) => {
      fake.calls += 1;
      fake.commands.push(command);
      // A turn of the event loop, as a network call takes: concurrent callers overlap.
      await new Promise((resolve) => setImmediate(resolve));
      return fake.answer();
    },
  } as unknown as SecretsManagerClient;
  return fake;
}

async function rejection(promise: Credentials | Promise<Credentials>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected get() to reject');
}

function expectInvalidSecret(error: unknown): UpstreamRejected {
  expect(error).toBeInstanceOf(UpstreamRejected);
  const e = error as UpstreamRejected;
  expect(e.name).toBe('UpstreamRejected');
  expect(e.code).toBe('InvalidSecret');
  expect(e.statusCode).toBe(502);
  expect(e.retryable).toBe(false);
  expect(e.message).toMatch(/^InvalidSecret: /);
  return e;
}

beforeEach(() => {
  sdk.sent = [];
  sdk.clients = 0;
  sdk.secret = JSON.stringify(SECRET);
});

describe('secretsManagerCredentials', () => {
  it('reads the secret once, with GetSecretValue on the ARN, and serves it from cache afterwards', async () => {
    const fake = fakeClient();
    const source = secretsManagerCredentials(ARN, fake.client);
    expect(fake.calls).toBe(0);
    expect(await source.get()).toEqual(SECRET);
    expect(await source.get()).toEqual(SECRET);
    expect(await source.get()).toEqual(SECRET);
    expect(fake.calls).toBe(1);
    const [command] = fake.commands;
    expect(command).toBeInstanceOf(GetSecretValueCommand);
    expect((command as GetSecretValueCommand).input).toEqual({ SecretId: ARN });
  });

  it('returns exactly secretId and secretKey, dropping other keys of the secret', async () => {
    const fake = fakeClient({ SecretString: JSON.stringify({ ...SECRET, note: 'rotated by ops', token: 'x' }) });
    expect(await secretsManagerCredentials(ARN, fake.client).get()).toStrictEqual(SECRET);
  });

  it('concurrent first calls share one read', async () => {
    const fake = fakeClient();
    const source = secretsManagerCredentials(ARN, fake.client);
    const all = await Promise.all([source.get(), source.get(), source.get(), source.get()]);
    expect(all).toEqual([SECRET, SECRET, SECRET, SECRET]);
    expect(fake.calls).toBe(1);
  });

  it('invalidate() makes the next get() read the secret again, and picks up a rotation', async () => {
    const fake = fakeClient();
    const source = secretsManagerCredentials(ARN, fake.client);
    expect(await source.get()).toEqual(SECRET);
    const rotated = { secretId: 'AKIDrotatedEXAMPLE', secretKey: 'newKeyEXAMPLE' };
    fake.answer = async () => ({ SecretString: JSON.stringify(rotated) });
    // Still cached until invalidated.
    expect(await source.get()).toEqual(SECRET);
    expect(fake.calls).toBe(1);
    source.invalidate?.();
    expect(await source.get()).toEqual(rotated);
    expect(await source.get()).toEqual(rotated);
    expect(fake.calls).toBe(2);
  });

  it('invalidate() before any read is harmless', async () => {
    const fake = fakeClient();
    const source = secretsManagerCredentials(ARN, fake.client);
    source.invalidate?.();
    expect(await source.get()).toEqual(SECRET);
    expect(fake.calls).toBe(1);
  });

  it.each([
    ['not JSON', 'secretId=AKIDx secretKey=y'],
    ['a JSON string', '"AKIDx:y"'],
    ['JSON null', 'null'],
    ['a JSON array', '["AKIDx","y"]'],
    ['missing secretKey', '{"secretId":"AKIDx"}'],
    ['missing secretId', '{"secretKey":"y"}'],
    ['a number for secretKey', '{"secretId":"AKIDx","secretKey":12345}'],
    ['other key names', '{"SecretId":"AKIDx","SecretKey":"y"}'],
    ['an empty object', '{}'],
    ['an empty string', ''],
    ['no SecretString (a binary secret)', undefined],
  ])(
    'a secret that is %s rejects with UpstreamRejected InvalidSecret, naming the shape, not the values',
    async (_label, secretString) => {
      const fake = fakeClient(secretString === undefined ? {} : { SecretString: secretString });
      const source = secretsManagerCredentials(ARN, fake.client);
      const error = expectInvalidSecret(await rejection(source.get()));
      expect(error.message).toContain('secretId');
      expect(error.message).toContain('secretKey');
      expect(error.message).not.toContain('AKIDx');
      expect(fake.calls).toBe(1);
    },
  );

  it('does not cache a malformed secret: the next get() reads again and succeeds once it is fixed', async () => {
    const fake = fakeClient({ SecretString: '{"secretId":"AKIDx"}' });
    const source = secretsManagerCredentials(ARN, fake.client);
    expectInvalidSecret(await rejection(source.get()));
    expectInvalidSecret(await rejection(source.get()));
    expect(fake.calls).toBe(2);
    fake.answer = async () => ({ SecretString: JSON.stringify(SECRET) });
    expect(await source.get()).toEqual(SECRET);
    expect(fake.calls).toBe(3);
    // Cached from then on.
    expect(await source.get()).toEqual(SECRET);
    expect(fake.calls).toBe(3);
  });

  it('does not cache a failing read: the error reaches the caller and the next get() reads again', async () => {
    const fake = fakeClient();
    const denied = Object.assign(new Error('User is not authorized to perform secretsmanager:GetSecretValue'), {
      name: 'AccessDeniedException',
    });
    fake.answer = async () => {
      throw denied;
    };
    const source = secretsManagerCredentials(ARN, fake.client);
    expect(await rejection(source.get())).toBe(denied);
    expect(await rejection(source.get())).toBe(denied);
    expect(fake.calls).toBe(2);
    fake.answer = async () => ({ SecretString: JSON.stringify(SECRET) });
    expect(await source.get()).toEqual(SECRET);
    expect(await source.get()).toEqual(SECRET);
    expect(fake.calls).toBe(3);
  });

  it('concurrent callers of a failing read all see the failure, and a later call retries', async () => {
    const fake = fakeClient();
    fake.answer = async () => {
      throw new Error('socket hang up');
    };
    const source = secretsManagerCredentials(ARN, fake.client);
    const results = await Promise.allSettled([source.get(), source.get(), source.get()]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(fake.calls).toBe(1);
    fake.answer = async () => ({ SecretString: JSON.stringify(SECRET) });
    expect(await source.get()).toEqual(SECRET);
    expect(fake.calls).toBe(2);
  });

  it('builds its own Secrets Manager client on first use when none is given', async () => {
    const source = secretsManagerCredentials(ARN);
    expect(sdk.clients).toBe(0);
    expect(await source.get()).toEqual(SECRET);
    expect(await source.get()).toEqual(SECRET);
    expect(sdk.clients).toBe(1);
    expect(sdk.sent).toHaveLength(1);
    expect((sdk.sent[0] as GetSecretValueCommand).input).toEqual({ SecretId: ARN });
  });
});

describe('staticCredentials', () => {
  it('returns the values it was given, every time, without any call', async () => {
    const given = { secretId: 'AKIDstatic', secretKey: 'static-key' };
    const source = staticCredentials(given);
    expect(await source.get()).toEqual(given);
    expect(await source.get()).toEqual(given);
    expect(sdk.clients).toBe(0);
  });

  it('keeps a session token', async () => {
    const given = { secretId: 'AKIDstatic', secretKey: 'static-key', token: 'session-token' };
    expect(await staticCredentials(given).get()).toEqual(given);
  });

  it('an invalidate, where the caller tries one, changes nothing', async () => {
    const given = { secretId: 'AKIDstatic', secretKey: 'static-key' };
    const source = staticCredentials(given);
    source.invalidate?.();
    expect(await source.get()).toEqual(given);
  });
});

describe('credentialSource', () => {
  it('reads Secrets Manager for a secretArn', async () => {
    const source = credentialSource({ secretArn: ARN });
    expect(typeof source.invalidate).toBe('function');
    expect(await source.get()).toEqual(SECRET);
    expect(sdk.sent).toHaveLength(1);
    expect((sdk.sent[0] as GetSecretValueCommand).input).toEqual({ SecretId: ARN });
    // Cached like any Secrets Manager source.
    await source.get();
    expect(sdk.sent).toHaveLength(1);
  });

  it('uses static credentials otherwise, with no Secrets Manager call', async () => {
    const config = { secretId: 'AKIDenv', secretKey: 'env-key', token: 'env-token' };
    const source = credentialSource(config);
    expect(await source.get()).toEqual(config);
    expect(await credentialSource({ secretId: 'AKIDenv', secretKey: 'env-key' }).get()).toEqual({
      secretId: 'AKIDenv',
      secretKey: 'env-key',
    });
    expect(sdk.clients).toBe(0);
    expect(sdk.sent).toHaveLength(0);
  });
});
