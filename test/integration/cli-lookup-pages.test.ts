/** `sms-status lookup` follows nextToken itself and prints one document; Tencent down, it answers from the lake. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupResult } from '#lib/status/lookup.ts';
import { byReceiveTime } from '#lib/receipt.ts';
import { fromTencent } from '#lib/status/from-tencent.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import { closedPort, seconds } from '../support/net.ts';
import { runCli } from '../support/run-cli.ts';

const BUSY = '+8613800138000';
let twin: Twin;
let env: Record<string, string>;

beforeAll(async () => {
  twin = await startTwin();
  env = {
    TENCENT_SMS_ENDPOINT: twin.url,
    TENCENTCLOUD_SECRET_ID: twin.credentials.secretId,
    TENCENTCLOUD_SECRET_KEY: twin.credentials.secretKey,
    SMS_SDK_APP_ID: twin.sdkAppId,
    TENCENT_RPS_BUDGET: '20',
  };
});
afterAll(() => twin.close());

describe('sms-status lookup, paged', () => {
  it('prints every record of a window larger than one answer (LOOKUP_MAX_RECORDS=150) as one document', async () => {
    const begin = new Date(twin.now() - 5 * 3600_000).toISOString();
    const run = await runCli(
      ['lookup', BUSY, '--all', '--begin', begin],
      { ...env, LOOKUP_MAX_RECORDS: '150' },
      60_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const body = JSON.parse(run.stdout) as LookupResult;
    const truth = twin
      .truth(BUSY, seconds(Date.parse(begin)), body.endTime)
      .map(fromTencent)
      .sort(byReceiveTime);
    expect(truth).toHaveLength(600);
    expect(body.statuses).toEqual(truth);
    expect(body.complete).toBe(true);
    expect(body).not.toHaveProperty('nextToken');
  });

  it('with Tencent down and no lake, exits non-zero with the error body, not a stack', async () => {
    const run = await runCli(
      ['lookup', BUSY],
      { ...env, TENCENT_SMS_ENDPOINT: `http://127.0.0.1:${await closedPort()}` },
      60_000,
    );
    expect(run.code).not.toBe(0);
    expect(JSON.parse(run.stderr.trim().split('\n').at(-1) as string).error.code).toBeTruthy();
  });
});
