/**
 * The export function as Step Functions and `aws lambda invoke` call it: through serverless-offline's
 * Lambda endpoint on the shared stack, writing to the stack's s3rver, pulling from the stack's twin.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { describe, expect, inject, it } from 'vitest';
import type { RunSummary, Window } from '#lib/export/types.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { readExport } from '../../local/read-export.ts';
import { asExported } from '../support/lake.ts';
import type { HoldExactlyOptions } from '../support/matchers.ts';
import { twinControl } from '../support/twin-control.ts';
import { stackClients } from '../support/stack-clients.ts';

const stack = inject('stack');
const twin = twinControl(stack.twinUrl);
const PREFIX = stack.env.EXPORT_PREFIX || 'sms-status';
const DAY = 86_400;
const BUSY = '+8613800138000';
const OPTED_OUT = '+8613900139000';
/** Numbers no other test file exports, so what lies under the shared prefix for them is this file's doing. */
const NUMBERS = [
  BUSY,
  '+8613711112222',
  '+14155550123',
  '+8615000150000',
  OPTED_OUT,
  '+8613477770001',
  '+8613477770002',
  '+447700900123',
];

const { lambda, s3 } = stackClients(stack);

async function invoke(payload: unknown): Promise<{ error: string | undefined; body: any }> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: 'sms-status-dev-export', Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  return { error: out.FunctionError, body: JSON.parse(Buffer.from(out.Payload ?? []).toString() || 'null') };
}

/** The twin's receipts of NUMBERS inside `window`, as the export writes them. */
async function twinTruth(window: Window): Promise<ExportRecord[]> {
  const truth: ExportRecord[] = [];
  for (const number of NUMBERS)
    truth.push(
      ...asExported(await twin.truth(number, window.beginTime, window.endTime), stack.env.SMS_SDK_APP_ID as string),
    );
  return truth;
}

/** The shared prefix holds other files' numbers too: only NUMBERS inside `window` are this file's doing. */
function onlyOurs(window: Window): HoldExactlyOptions {
  return {
    ordered: false,
    ignore: (r) =>
      !NUMBERS.includes(r.phoneNumber) || r.userReceiveTime < window.beginTime || r.userReceiveTime > window.endTime,
  };
}

describe('export by direct invocation (serverless-offline Lambda endpoint)', () => {
  const endTime = Math.floor(Date.now() / 1000);
  const beginTime = endTime - 2 * DAY;
  let first: RunSummary;

  it('exports the numbers of the event and returns the run summary; the objects hold exactly the twin’s receipts', async () => {
    const { error, body } = await invoke({ phoneNumbers: NUMBERS, beginTime, endTime });
    expect(error, JSON.stringify(body)).toBeUndefined();
    first = body as RunSummary;
    expect(first).toMatchObject({
      complete: true,
      checkpointAdvanced: false,
      window: { beginTime, endTime },
      numbersTotal: NUMBERS.length,
      numbersDone: NUMBERS.length,
      incompleteNumbers: [],
      failures: [{ phoneNumber: OPTED_OUT, kind: 'rejected', code: 'FailedOperation.PhoneNumberInBlacklist' }],
    });
    const truth = await twinTruth({ beginTime, endTime });
    expect(truth.length).toBeGreaterThan(600);
    expect(first.records).toBe(truth.length);
    expect(await readExport(s3, stack.bucket, PREFIX)).toHoldExactly(truth, onlyOurs({ beginTime, endTime }));
  });

  it('invoked again for the same window, it leaves the same records without duplicates', async () => {
    expect(first, 'needs the first export').toBeDefined();
    const { error, body } = await invoke({ phoneNumbers: NUMBERS, beginTime, endTime });
    expect(error, JSON.stringify(body)).toBeUndefined();
    expect(body).toMatchObject({ complete: true, records: first.records, numbersDone: NUMBERS.length });
    expect(body.runId).not.toBe(first.runId);
    const truth = await twinTruth({ beginTime, endTime });
    expect(await readExport(s3, stack.bucket, PREFIX)).toHoldExactly(truth, onlyOurs({ beginTime, endTime }));
    expect(truth.length).toBe(first.records);
  });

  it('fails with InvalidInput naming an unknown field', async () => {
    const { error, body } = await invoke({ phoneNumbers: [BUSY], beginTime, phoneNumber: BUSY });
    expect(error).toBeDefined();
    expect(body.errorMessage).toContain("unknown field 'phoneNumber'");
  });

  it('fails with InvalidInput naming the manifest for a bad or missing manifest URL', async () => {
    const bad = await invoke({ manifest: 'https://example.com/numbers.txt', beginTime });
    expect(bad.error).toBeDefined();
    expect(bad.body.errorMessage).toMatch(/manifest must be an s3:\/\/bucket\/key URL/);
    const missing = await invoke({ manifest: `s3://${stack.bucket}/no/such/manifest.txt`, beginTime });
    expect(missing.error).toBeDefined();
    expect(missing.body.errorMessage).toContain(`manifest s3://${stack.bucket}/no/such/manifest.txt does not exist`);
  });

  it('fails with InvalidInput for a window past Tencent’s 7 days, before any request', async () => {
    const before = await twin.stats();
    const { error, body } = await invoke({ phoneNumbers: [BUSY], beginTime: endTime - 8 * DAY });
    expect(error).toBeDefined();
    expect(body.errorMessage).toContain('InvalidParameterValue.BeginTimeVerifyFail');
    expect(body.errorMessage).toContain('beginTime');
    // Other files share this twin, so only check that this call added nothing of its own kind.
    expect((await twin.stats()).byCode['InvalidParameterValue.BeginTimeVerifyFail'] ?? 0).toBe(
      before.byCode['InvalidParameterValue.BeginTimeVerifyFail'] ?? 0,
    );
  });
});
