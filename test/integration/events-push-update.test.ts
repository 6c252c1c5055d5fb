/**
 * Push on the shared stack (serverless-offline's callback and inbox drain, the stack's EventBridge
 * stand-in): a receipt first pushed FAIL, then SUCCESS with a later receive time, gives one `new` event
 * and then exactly one `updated` event carrying `previous`; a redelivery of either batch publishes nothing.
 * The stand-in's events file holds every event, so drains of other test files cannot hide one.
 */
import { randomBytes } from 'node:crypto';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { describe, expect, inject, it } from 'vitest';
import type { DeliveryDetail } from '#lib/events/event.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import type { DrainSummary } from '#lib/push/inbox.ts';
import { exportedLines, listKeys, readObject } from '../../local/read-export.ts';
import { eventsInFile } from '../support/delivery-events.ts';
import { stackClients } from '../support/stack-clients.ts';

const stack = inject('stack');
const PREFIX = stack.env.EXPORT_PREFIX || 'sms-status';
const CALLBACK = `${stack.httpUrl}/dev/v1/callbacks/tencent/${stack.env.SMS_STATUS_CALLBACK_TOKEN}`;
const RUN = randomBytes(4).toString('hex');
const SIDS = Array.from({ length: 20 }, (_, i) => `upd-${RUN}-${i}`);
// Noon (UTC) yesterday: both versions of a receipt fall on one UTC day, whatever the hour the test runs
// (two hours before now put FAIL and SUCCESS on both sides of midnight between 01:50 and 02:10 UTC).
const BASE = Math.floor(Date.now() / 1000 / 86_400) * 86_400 - 12 * 3600;

const { lambda, s3 } = stackClients(stack);

function beijing(seconds: number): string {
  return new Date((seconds + 8 * 3600) * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

/** The receipt of sid `i` (numbers +86167… no other test uses): FAIL first, SUCCESS ten minutes later. */
function receipt(i: number, status: 'FAIL' | 'SUCCESS') {
  const fail = status === 'FAIL';
  return {
    user_receive_time: beijing(BASE + i + (fail ? 0 : 600)),
    nationcode: '86',
    mobile: `1670000${String(i % 5).padStart(4, '0')}`,
    report_status: status,
    errmsg: fail ? 'UNDELIV' : 'DELIVRD',
    description: fail ? '短信发送失败' : '用户短信送达成功',
    sid: SIDS[i] as string,
  };
}

const failBatch = JSON.stringify(SIDS.map((_, i) => receipt(i, 'FAIL')));
const successBatch = JSON.stringify(SIDS.map((_, i) => receipt(i, 'SUCCESS')));

async function post(body: string): Promise<void> {
  const response = await fetch(CALLBACK, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ result: 0 });
}

async function drain(): Promise<DrainSummary> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: 'sms-status-dev-inbox', Payload: Buffer.from('{}') }),
  );
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString() || 'null');
  expect(out.FunctionError, JSON.stringify(body)).toBeUndefined();
  return body as DrainSummary;
}

/**
 * This file's receipts in the lake. Other files share the stack's lake, and bad-day.test.ts plants a
 * truncated day object in it for a while: an object that does not read whole holds none of this file's.
 */
async function mine(): Promise<ExportRecord[]> {
  const found: ExportRecord[] = [];
  for (const key of await listKeys(s3, stack.bucket, `${PREFIX}/statuses/`)) {
    try {
      found.push(...exportedLines(await readObject(s3, stack.bucket, key)));
    } catch {
      // Another file's corrupt object, or one deleted since the listing.
    }
  }
  return found.filter((r) => SIDS.includes(r.serialNo));
}

/** Drains until the lake holds every sid with `status` (another file's drain may have taken the batch). */
async function drainUntil(status: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await drain();
    const held = await mine();
    if (held.length === SIDS.length && held.every((r) => r.reportStatus === status)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the lake never held every receipt as ${status}`);
}

async function myEvents(): Promise<DeliveryDetail[]> {
  return (await eventsInFile(stack.eventsFile)).filter((d) => SIDS.includes(d.serialNo));
}

describe('a status change pushed through the callback', () => {
  it('FAIL, then SUCCESS later: one new event, then exactly one updated event with previous', async () => {
    await post(failBatch);
    await drainUntil('FAIL');
    const first = await myEvents();
    expect(first).toHaveLength(SIDS.length);
    expect(first.every((d) => d.change === 'new' && d.reportStatus === 'FAIL' && d.origin === 'push')).toBe(true);
    expect(first.every((d) => d.previous === undefined)).toBe(true);

    await post(successBatch);
    await drainUntil('SUCCESS');
    const updated = (await myEvents()).filter((d) => d.change === 'updated');
    expect(updated.map((d) => d.serialNo).sort()).toEqual([...SIDS].sort());
    const lake = new Map((await mine()).map((r) => [r.serialNo, r]));
    for (const event of updated) {
      const { origin, change, previous, ...fields } = event;
      expect({ origin, change }).toEqual({ origin: 'push', change: 'updated' });
      expect(previous).toEqual({ reportStatus: 'FAIL', description: 'UNDELIV' });
      expect(fields).toEqual(lake.get(event.serialNo));
      expect(fields.phoneNumber).toMatch(/^\+86167/);
    }
  }, 120_000);

  it('a redelivery of either batch publishes nothing', async () => {
    const before = await myEvents();
    for (const batch of [failBatch, successBatch]) {
      await post(batch);
      await drain();
    }
    // Whatever drain took the redeliveries, the inbox is empty of them and the lake unchanged.
    await drainUntil('SUCCESS');
    expect(await myEvents()).toEqual(before);
    expect(before).toHaveLength(2 * SIDS.length);
  }, 120_000);
});
