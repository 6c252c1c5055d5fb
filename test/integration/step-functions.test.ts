import { createRequire } from 'node:module';
import { S3Client } from '@aws-sdk/client-s3';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { jobIdOf } from '#lib/export/job.ts';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { readJson } from '#lib/lake/store.ts';
import { SHARDS, groupOf, shardOfGroup } from '#lib/lake/layout.ts';
import { readExport } from '../../local/read-export.ts';
import { localEnv } from '../../local/function-env.ts';
import { startLocalS3, type LocalS3 } from '../../local/s3.ts';
import { startTwin, type Twin } from '../../local/twin/twin.ts';
import { packaged as loadPackage, resourcesOfType, type Packaged } from '../support/package.ts';

const require = createRequire(import.meta.url);
const validate = require('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText(separator?: string): string;
};

type Definition = { States: Record<string, any> } & Record<string, unknown>;
type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

const FUNCTION_NAMES: Record<string, string> = {
  ExportLambdaFunction: 'sms-status-dev-export',
  LookupLambdaFunction: 'sms-status-dev-lookup',
};

/** The state machines as packaged, their Fn::Sub placeholders replaced by the functions' ARNs. */
function definitions(template: any): Record<string, Definition> {
  const out: Record<string, Definition> = {};
  for (const [, resource] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
    const [text, substitutions] = resource.Properties.DefinitionString['Fn::Sub'] as [string, Record<string, any>];
    const resolved = text.replace(/\$\{(\w+)\}/g, (_, key: string) => {
      const logicalId = substitutions[key]?.['Fn::GetAtt']?.[0] as string;
      return `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION_NAMES[logicalId] ?? logicalId}`;
    });
    out[resource.Properties.StateMachineName] = JSON.parse(resolved);
  }
  return out;
}

let packaged: Packaged;
let machines: Record<string, Definition>;
beforeAll(async () => {
  packaged = await loadPackage(inject('stack').packages.plain);
  machines = definitions(packaged.template);
});

describe('packaged state machines', () => {
  it('pass asl-validator', () => {
    expect(Object.keys(machines).sort()).toEqual([
      'sms-status-dev-export',
      'sms-status-dev-export-distributed',
      'sms-status-dev-lookup-example',
    ]);
    for (const [name, definition] of Object.entries(machines)) {
      const result = validate(definition);
      expect(result.isValid, `${name}: ${result.errorsText()}`).toBe(true);
    }
  });

  it('never run more shards at once than the export has reserved instances', () => {
    const exporter = resourcesOfType(packaged.template, 'AWS::Lambda::Function').find(
      ([, r]) => r.Properties.FunctionName === 'sms-status-dev-export',
    )?.[1];
    for (const name of ['sms-status-dev-export', 'sms-status-dev-export-distributed']) {
      expect(machines[name]?.States.ExportShards.MaxConcurrency).toBeLessThanOrEqual(
        exporter.Properties.ReservedConcurrentExecutions,
      );
    }
  });

  it('differ only in how the Distributed Map reads and runs its items', () => {
    const inline = structuredClone(machines['sms-status-dev-export']) as Definition;
    const distributed = structuredClone(machines['sms-status-dev-export-distributed']) as Definition;
    expect(distributed.States.ExportShards.ItemReader.Resource).toBe('arn:aws:states:::s3:getObject');
    expect(distributed.States.ExportShards.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    for (const machine of [inline, distributed]) {
      delete machine.Comment;
      delete machine.States.ExportShards.ItemsPath;
      delete machine.States.ExportShards.ItemReader;
      delete machine.States.ExportShards.ItemProcessor.ProcessorConfig;
    }
    expect(distributed).toEqual(inline);
  });

  it('retry RateLimited, UpstreamUnavailable, Lambda service errors and Lambda timeouts with jitter, and catch the others without retrying', () => {
    for (const name of ['sms-status-dev-export', 'sms-status-dev-export-distributed']) {
      const shard = machines[name]?.States.ExportShards.ItemProcessor.States.ExportShard;
      const retried = shard.Retry.flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals);
      expect(retried).toEqual(
        expect.arrayContaining([
          'RateLimited',
          'UpstreamUnavailable',
          'Lambda.TooManyRequestsException',
          'Lambda.ServiceException',
          'Sandbox.Timedout',
        ]),
      );
      // States.TaskFailed or States.ALL in a retrier would retry InvalidInput too.
      for (const never of ['InvalidInput', 'UpstreamRejected', 'States.TaskFailed', 'States.ALL'])
        expect(retried).not.toContain(never);
      for (const retry of shard.Retry) expect(retry.JitterStrategy).toBe('FULL');
      expect(shard.Catch[0].ErrorEquals).toEqual(['InvalidInput', 'UpstreamRejected']);
      expect(shard.Catch.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'ShardRejected' });
    }
  });
});

describe('the export workflow, run locally over the real handler', () => {
  let twin: Twin;
  let s3: LocalS3;
  let s3Client: S3Client;
  let handler: Handler;
  const calls: string[] = [];
  const context = { getRemainingTimeInMillis: () => 600_000 };
  const invoke = async (input: unknown): Promise<unknown> => {
    calls.push((input as { action: string }).action);
    return handler(input, context);
  };
  // The handler's results are JSON; the library types its handlers over its own JSON type.
  const overrides: any = {
    taskResourceLocalHandlers: { Plan: invoke, ExportShard: invoke, Commit: invoke },
    retryIntervalOverrides: { Plan: 0, ExportShard: 0, Commit: 0 },
  };

  beforeAll(async () => {
    twin = await startTwin({});
    s3 = await startLocalS3();
    Object.assign(process.env, localEnv({ twin, s3 }), { TENCENT_RPS_BUDGET: '20', EXPORT_PREFIX: 'sfn' });
    ({ handler } = (await import('../../functions/export.ts')) as { handler: Handler });
    s3Client = new S3Client({
      ...s3ClientConfig({ local: true }),
      endpoint: s3.url,
      region: 'us-east-1',
      credentials: s3.credentials,
    });
  });
  afterAll(async () => {
    s3Client?.destroy();
    await twin?.close();
    await s3?.close();
  });
  beforeEach(() => {
    calls.length = 0;
    twin.configure({ faults: {} });
  });

  const numbers = Array.from({ length: 40 }, (_, i) => `+86135${String(20_000_000 + i * 104_729).slice(-8)}`);

  it('exports a multi-shard run whose S3 objects equal the twin ground truth', async () => {
    const shards = new Set(numbers.map((n) => shardOfGroup(groupOf(n))));
    expect(shards.size).toBeGreaterThan(8);
    expect(shards.size).toBeLessThanOrEqual(SHARDS);
    const beginTime = Math.floor(twin.now() / 1000) - 6 * 86400;
    const machine = new StateMachine(machines['sms-status-dev-export'] as never);
    const output = (await machine.run({ phoneNumbers: numbers, beginTime }, { overrides }).result) as any;
    expect(output.complete).toBe(true);
    expect(output.numbersDone).toBe(numbers.length);
    expect(calls.filter((c) => c === 'shard')).toHaveLength(shards.size);
    const exported = (await readExport(s3Client, s3.bucket, 'sfn')).flatMap((o) => o.records);
    const truth = numbers.flatMap((n) => twin.truth(n, output.window.beginTime, output.window.endTime));
    expect(exported.map((r) => r.serialNo).sort()).toEqual(truth.map((s) => s.SerialNo).sort());
    expect(output.records).toBe(truth.length);
  });

  it('retries a shard that failed with RateLimited, then succeeds', async () => {
    // More throttles in a row than the Lambda's own retries and second pass take (2 × 8 attempts): the
    // shard task fails with RateLimited, and the workflow's Retry invokes it again.
    twin.configure({ faults: { script: Array.from({ length: 16 }, () => ({ code: 'RequestLimitExceeded' })) } });
    const one = ['+8613711112222'];
    const beginTime = Math.floor(twin.now() / 1000) - 6 * 86400;
    const machine = new StateMachine(machines['sms-status-dev-export'] as never);
    const output = (await machine.run({ phoneNumbers: one, beginTime }, { overrides }).result) as any;
    expect(calls).toEqual(['plan', 'shard', 'shard', 'commit']);
    expect(output.complete).toBe(true);
    expect(output.throttles).toBeGreaterThanOrEqual(16);
    const exported = (await readExport(s3Client, s3.bucket, 'sfn'))
      .flatMap((o) => o.records)
      .filter((r) => r.phoneNumber === one[0]);
    expect(exported.map((r) => r.serialNo).sort()).toEqual(
      twin
        .truth(one[0] as string, output.window.beginTime, output.window.endTime)
        .map((s) => s.SerialNo)
        .sort(),
    );
  }, 90_000);

  it('catches UpstreamRejected without retrying and ends ExportIncomplete, leaving the checkpoint alone', async () => {
    twin.configure({ faults: { script: [{ code: 'AuthFailure.SignatureFailure' }] } });
    const machine = new StateMachine(machines['sms-status-dev-export'] as never);
    const execution = machine.run({ phoneNumbers: ['+8615000150000'] }, { overrides });
    await expect(execution.result).rejects.toMatchObject({ cause: { name: 'ExportIncomplete' } });
    expect(calls).toEqual(['plan', 'shard', 'commit']);
    const jobId = jobIdOf({ phoneNumbers: ['+8615000150000'] }, {});
    expect(
      await readJson(s3Store({ local: true }, s3Client), s3.bucket, `sfn/_state/${jobId}/checkpoint.json`),
    ).toBeUndefined();
  });

  it('retries a shard whose Lambda timed out (Sandbox.Timedout): it resumes from its saved progress and the run completes exactly', async () => {
    const beginTime = Math.floor(twin.now() / 1000) - 6 * 86400;
    let timeouts = 0;
    const timingOut = async (input: unknown): Promise<unknown> => {
      const result = await invoke(input);
      if (timeouts++ === 0)
        throw Object.assign(new Error('Task timed out after 900.00 seconds'), { name: 'Sandbox.Timedout' });
      return result;
    };
    const machine = new StateMachine(machines['sms-status-dev-export'] as never);
    const output = (await machine.run(
      { phoneNumbers: numbers, beginTime },
      {
        overrides: {
          ...overrides,
          taskResourceLocalHandlers: { ...overrides.taskResourceLocalHandlers, ExportShard: timingOut },
        },
      },
    ).result) as any;
    expect(timeouts).toBeGreaterThan(1);
    expect(output.complete).toBe(true);
    const exported = (await readExport(s3Client, s3.bucket, 'sfn'))
      .flatMap((o) => o.records)
      .filter((r) => numbers.includes(r.phoneNumber));
    const truth = numbers.flatMap((n) => twin.truth(n, output.window.beginTime, output.window.endTime));
    expect(new Set(exported.map((r) => r.serialNo))).toEqual(new Set(truth.map((t) => t.SerialNo)));
  }, 120_000);

  const LIMIT = 262_144;
  /** Every state's input and output of a run of `definition`, in bytes, with the plan step the real handler's. */
  async function sizes(definition: Definition, input: unknown): Promise<Array<{ state: string; bytes: number }>> {
    const context = { getRemainingTimeInMillis: () => 600_000 };
    const plan = (event: unknown) => handler(event, context);
    // Shards answer as the real step does; the commit answers the largest summary a run can make.
    const shard = (event: any) => ({ shard: event.shard, done: true });
    const commit = (event: any) => largestSummary(event.plan);
    const machine = new StateMachine(definition as never, { validationOptions: { checkPaths: false } } as never);
    const execution = machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: { Plan: plan, ExportShard: shard, Commit: commit } } as never,
    });
    const out: Array<{ state: string; bytes: number }> = [];
    for await (const event of execution.eventLogs as AsyncIterable<any>) {
      if (event.state?.input !== undefined)
        out.push({ state: `${event.state.name} in`, bytes: Buffer.byteLength(JSON.stringify(event.state.input)) });
      if (event.state?.output !== undefined)
        out.push({ state: `${event.state.name} out`, bytes: Buffer.byteLength(JSON.stringify(event.state.output)) });
    }
    await execution.result.catch(() => undefined);
    return out;
  }

  it.each([
    [
      'payloads under 256 KB: 10,000 inline numbers of the longest valid length, 1% invalid',
      () => ({
        phoneNumbers: Array.from({ length: 10_000 }, (_, i) =>
          i % 100 === 0
            ? `+0${String(i).padStart(14, '0')}`
            : `+86${String(1_300_000_000_000 + i * 7919).padStart(13, '0')}`,
        ),
      }),
    ],
    [
      'payloads under 256 KB: a 10,000-line manifest with 10% bad lines',
      () => ({ manifest: `s3://${s3.bucket}/manifests/big.txt` }),
    ],
  ])(
    '%s',
    async (_, input) => {
      const lines = Array.from({ length: 10_000 }, (_, i) =>
        i % 10 === 0 ? `not a number ${'x'.repeat(40)} ${i}` : `+8613${String(100_000_000 + i * 7919).slice(-9)}`,
      );
      await s3Store(
        { local: true },
        new S3Client({
          ...s3ClientConfig({ local: true }),
          endpoint: s3.url,
          region: 'us-east-1',
          credentials: s3.credentials,
        }),
      ).write(s3.bucket, 'manifests/big.txt', lines.join('\n'));
      const request = input();
      expect(Buffer.byteLength(JSON.stringify(request))).toBeLessThan(LIMIT);
      for (const name of ['sms-status-dev-export', 'sms-status-dev-export-distributed']) {
        const definition = structuredClone(machines[name]) as Definition;
        // The local runner reads no S3 item list: the Distributed Map's items come as the inline one's do.
        if (definition.States.ExportShards.ItemReader) {
          delete definition.States.ExportShards.ItemReader;
          definition.States.ExportShards.ItemsPath = '$.plan.shards';
          definition.States.ExportShards.ItemProcessor.ProcessorConfig = { Mode: 'INLINE' };
        }
        const seen = await sizes(definition, request);
        expect(seen.map((s) => s.state)).toEqual(
          expect.arrayContaining(['Plan out', 'ExportShard in', 'Commit in', 'Commit out']),
        );
        const largest = seen.reduce((a, b) => (b.bytes > a.bytes ? b : a));
        expect(
          seen.filter((s) => s.bytes >= LIMIT),
          `${name}: largest ${largest.state} ${largest.bytes} B`,
        ).toEqual([]);
        expect(seen.find((s) => s.state === 'Plan out')?.bytes).toBeLessThan(32 * 1024);
      }
    },
    120_000,
  );

  it('fails ExportRejected at the plan for bad input, without retrying', async () => {
    const machine = new StateMachine(machines['sms-status-dev-export'] as never);
    await expect(
      machine.run({ phoneNumbers: ['+8613711112222'], beginTime: 'yesterday' }, { overrides }).result,
    ).rejects.toMatchObject({
      cause: { name: 'ExportRejected' },
    });
    expect(calls).toEqual(['plan']);
  });
});

/** A summary with every sample at its cap and every string long: the most a commit can answer. */
function largestSummary(plan: any): unknown {
  const long = (i: number) => `${'x'.repeat(200)}-${i}`;
  const twenty = <T>(make: (i: number) => T): T[] => Array.from({ length: 20 }, (_, i) => make(i));
  return {
    ...plan,
    failures: twenty((i) => ({
      phoneNumber: '+86*******0000',
      kind: 'transient',
      name: 'UpstreamUnavailable',
      code: long(i),
      message: long(i),
      requestId: long(i),
    })),
    incompleteNumbers: twenty(() => '+86*******0000'),
    stuckNumbers: twenty(() => '+86*******0000'),
    gapNumbers: twenty(() => '+86*******0000'),
    corruptObjects: twenty((i) => ({ key: long(i), movedTo: long(i), error: long(i) })),
    lostObjects: twenty(long),
    manifestProblems: twenty((i) => ({ line: i, reason: long(i) })),
    complete: false,
  };
}

describe('the lookup example, run locally over the real handler', () => {
  let twin: Twin;
  let lookup: Handler;
  beforeAll(async () => {
    twin = await startTwin({});
    Object.assign(process.env, localEnv({ twin }));
    ({ handler: lookup } = (await import('../../functions/lookup.ts')) as unknown as { handler: Handler });
  });
  afterAll(() => twin?.close());

  const run = (input: unknown) => {
    const machine = new StateMachine(machines['sms-status-dev-lookup-example'] as never);
    const overrides: any = {
      taskResourceLocalHandlers: {
        Lookup: (event: unknown) => lookup(event, { getRemainingTimeInMillis: () => 25_000 }),
      },
    };
    return machine.run(input as never, { overrides }).result as Promise<any>;
  };

  it('keeps the lookup’s outcome in its state, not the receipts and their numbers', async () => {
    const output = await run({ phoneNumber: '+8613711112222' });
    expect(output.complete).toBe(true);
    expect(output.receipts).toBeGreaterThan(0);
    expect(output.reportStatuses).toHaveLength(output.receipts);
    for (const status of output.reportStatuses) expect(['SUCCESS', 'FAIL']).toContain(status);
    expect(output.requestIds.length).toBeGreaterThan(0);
    expect(JSON.stringify(output)).not.toContain('8613711112222');
  });

  it('catches InvalidInput by name and fails LookupRejected', async () => {
    await expect(run({ phoneNumber: '13711112222' })).rejects.toMatchObject({ cause: { name: 'LookupRejected' } });
  });
});
