/**
 * No full phone number in a workflow's state or history: the export workflow, run locally over the
 * real handler with its numbers in an S3 manifest, records every event; none may carry a number whole.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { maskPhoneNumber } from '#lib/observability/redact.ts';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { localEnv } from '../../local/function-env.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import { packaged, resourcesOfType } from '../support/package.ts';

type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

/** Demo numbers: ordinary, busy, mostly failed deliveries, opted out, and 150 receipts in one second (reported incomplete). */
const NUMBERS = ['+8613711112222', '+8613800138000', '+8615000150000', '+8613900139000', '+8613600136000'];

let twin: Twin;
let s3: LocalS3;
let client: S3Client;
let handler: Handler;
let definition: unknown;

beforeAll(async () => {
  const template = (await packaged(inject('stack').packages.plain)).template;
  const [, machine] =
    resourcesOfType(template, 'AWS::StepFunctions::StateMachine').find(
      ([, r]) => r.Properties.StateMachineName === 'sms-status-dev-export',
    ) ?? [];
  const [text] = machine.Properties.DefinitionString['Fn::Sub'] as [string];
  definition = JSON.parse(
    text.replace(/\$\{\w+\}/g, 'arn:aws:lambda:us-east-1:123456789012:function:sms-status-dev-export'),
  );
  twin = await startTwin({});
  s3 = await startLocalS3();
  Object.assign(process.env, localEnv({ twin, s3 }), { TENCENT_RPS_BUDGET: '20', EXPORT_PREFIX: 'masking' });
  ({ handler } = (await import('../../functions/export.ts')) as { handler: Handler });
  client = new S3Client({
    ...s3ClientConfig({ local: true }),
    endpoint: s3.url,
    region: 'us-east-1',
    credentials: s3.credentials,
  });
  await client.send(
    new PutObjectCommand({ Bucket: s3.bucket, Key: 'manifests/numbers.txt', Body: NUMBERS.join('\n') }),
  );
});

afterAll(async () => {
  client?.destroy();
  await twin?.close();
  await s3?.close();
});

describe('the export workflow’s state and history', () => {
  it('carry no full phone number when the numbers come from a manifest', async () => {
    const invoke = (input: unknown) => handler(input, { getRemainingTimeInMillis: () => 600_000 });
    const overrides: any = {
      taskResourceLocalHandlers: { Plan: invoke, ExportShard: invoke, Commit: invoke },
      retryIntervalOverrides: { Plan: 0, ExportShard: 0, Commit: 0 },
    };
    const beginTime = Math.floor(twin.now() / 1000) - 6 * 86400;
    const execution = new StateMachine(definition as never).run(
      { manifest: `s3://${s3.bucket}/manifests/numbers.txt`, beginTime },
      { overrides },
    );
    const events: unknown[] = [];
    const collected = (async () => {
      for await (const event of execution.eventLogs) events.push(event);
    })();
    const output = await execution.result.catch((error: unknown) => ({ failed: error }));
    await collected;
    const history = JSON.stringify({ events, output });
    expect(events.length).toBeGreaterThan(5);
    for (const number of NUMBERS) expect(history, number).not.toContain(number.slice(1));
    // The summary still says which numbers, as far as a masked number can.
    expect(history).toContain(maskPhoneNumber('+8613600136000'));
  }, 120_000);
});
