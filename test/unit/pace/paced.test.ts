/**
 * The pacer's promises that need no clock: a request takes its slot only once it can leave at once (a
 * socket is free, the key is read), so no slot is spent waiting and no requests leave in a clump. The
 * timing itself (at most the budget in any sliding second) is bucket.test.ts's, on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { connect } from '#lib/connect.ts';
import type { Pacer } from '#lib/pace/bucket.ts';
import { paced } from '#lib/pace/paced.ts';
import { LOOKUP_RETRY } from '#lib/pace/retry.ts';
import type { CredentialSource } from '#lib/tencent/types.ts';

/** A pacer that grants at once and records, at each grant, how many granted slots are not yet answered (itself included). */
function recordingPacer(answered: () => number): Pacer & { heldAtTake: number[] } {
  const heldAtTake: number[] = [];
  return {
    heldAtTake,
    take: async () => void heldAtTake.push(heldAtTake.length + 1 - answered()),
    slowDown: () => undefined,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  return { promise: new Promise<void>((r) => (resolve = r)), resolve };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('paced(): slots and sockets', () => {
  it('takes no slot while every socket is busy, and takes the next one as a socket frees', async () => {
    let answered = 0;
    const answers: Array<() => void> = [];
    const pacer = recordingPacer(() => answered);
    const send = async (): Promise<void> => {
      const done = deferred();
      answers.push(done.resolve);
      await done.promise;
      answered += 1;
    };
    const client = paced(send, { pacer, retry: LOOKUP_RETRY, isThrottle: () => false, maxInFlight: 3 });
    const calls = Array.from({ length: 7 }, () => client.call(undefined));
    await settle();
    expect(pacer.heldAtTake).toEqual([1, 2, 3]);
    answers.shift()?.();
    await settle();
    expect(pacer.heldAtTake).toEqual([1, 2, 3, 3]);
    while (answers.length > 0) {
      answers.shift()?.();
      await settle();
    }
    await Promise.all(calls);
    expect(pacer.heldAtTake).toHaveLength(7);
    expect(Math.max(...pacer.heldAtTake)).toBe(3);
  });
});

describe('connect(): the key before the slot', () => {
  it('reads the key before any request takes its slot, so a slow first read cannot bunch them', async () => {
    const key = deferred();
    let keyRead = false;
    const credentials: CredentialSource = {
      get: async () => {
        await key.promise;
        keyRead = true;
        return { secretId: 'AKIDtest', secretKey: 'test' };
      },
      invalidate: () => undefined,
    } as unknown as CredentialSource;
    const config = {
      endpoint: 'http://127.0.0.1:9',
      region: 'ap-guangzhou',
      sdkAppId: '1400000000',
      credentials: { secretArn: 'x' },
      timeoutMs: 100,
      rpsBudget: 20,
    };
    const client = connect(config, { retry: { ...LOOKUP_RETRY, maxAttempts: 1 }, credentials });
    const pulls = Array.from({ length: 5 }, () =>
      client.pull({ phoneNumber: '+8613711112222', beginTime: 1, endTime: 2, limit: 1 }).catch(() => undefined),
    );
    await settle();
    expect(client.stats.requests).toBe(0);
    key.resolve();
    await Promise.all(pulls);
    expect(keyRead).toBe(true);
    expect(client.stats.requests).toBe(5);
  });
});
