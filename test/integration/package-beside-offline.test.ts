/**
 * `npx serverless package` in a second terminal, beside a running local stack, exactly as a user runs
 * it (no ESBUILD_WORK_FOLDER): serverless-esbuild deletes its work folder (`.esbuild`) when packaging
 * is done, and the local stack must not have been serving its bundles from there.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/offline.ts';
import { exclusivePackaging } from '../support/package.ts';
import { stackClients } from '../support/stack-clients.ts';

const run = promisify(execFile);
const stack = inject('stack');
const { lambda } = stackClients(stack);

describe('serverless package beside the local stack', () => {
  it('leaves HTTP lookups answering 200 and direct invocations working', { timeout: 240_000 }, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1' };
    delete env.ESBUILD_WORK_FOLDER;
    const out = await mkdtemp(join(tmpdir(), 'sms-status-user-package-'));
    try {
      await exclusivePackaging(() =>
        run(
          process.execPath,
          [join(PROJECT_ROOT, 'node_modules/serverless/bin/serverless.js'), 'package', '--package', out],
          { cwd: PROJECT_ROOT, env, timeout: 200_000 },
        ),
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    const response = await fetch(`${stack.httpUrl}/dev/v1/phone-numbers/%2B8613711112222/statuses?limit=1`, {
      headers: { 'x-api-key': stack.apiKey },
    });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(((await response.json()) as { statuses: unknown[] }).statuses).toHaveLength(1);
    const invoked = await lambda.send(
      new InvokeCommand({
        FunctionName: 'sms-status-dev-lookup',
        Payload: Buffer.from(JSON.stringify({ phoneNumber: '+8613711112222', limit: 1 })),
      }),
    );
    const payload = Buffer.from(invoked.Payload ?? []).toString();
    expect(invoked.FunctionError, payload).toBeUndefined();
    expect(JSON.parse(payload).statuses).toHaveLength(1);
  });
});
