import { setTimeout as delay } from 'node:timers/promises';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { callbackReceipt, offsetSeconds, type CallbackReceipt } from './push-format.ts';
import { PUSH_DEFAULTS, type PushOptions } from './push-options.ts';
import { sendBatch } from './push-send.ts';

const RETENTION_SECONDS = 7 * 24 * 3600;

export interface PushStats {
  url: string;
  /** Batches and receipts the push holds, fixed when it starts. */
  batches: number;
  receipts: number;
  /** Batches and receipts the receiver has acknowledged. */
  ackedBatches: number;
  acked: number;
  /** POSTs sent, retries included. */
  requests: number;
  /** POSTs that re-sent a batch after a failed attempt. */
  retries: number;
  /** Why the latest failed attempt failed; kept after later successes, to see what went wrong. */
  lastError?: string;
  /** Every batch acknowledged. */
  done: boolean;
  /** Stopped (`stop()`, DELETE /_twin/push, the twin closing) before done. */
  stopped: boolean;
}

export interface PushJob {
  stats(): PushStats;
  /** Aborts the request in flight and sends nothing more. */
  stop(): void;
  /** The final stats, once every batch is acknowledged or the push is stopped; never rejects. */
  finished: Promise<PushStats>;
}

/** What a push reads of the twin. */
export interface PushSource {
  /** Ms since epoch, the twin's clock. */
  now(): number;
  truth(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
  /** The numbers pushed when the options name none. */
  numbers: string[];
}

/** The callback batches: each receipt of the numbers inside the window once, in receive-time order. */
function planBatches(options: PushOptions, source: PushSource): CallbackReceipt[][] {
  const endTime = options.endTime ?? Math.floor(source.now() / 1000);
  const beginTime = options.beginTime ?? endTime - RETENTION_SECONDS;
  const seen = new Set<string>();
  const receipts = [...new Set(options.numbers ?? source.numbers)]
    .flatMap((number) => source.truth(number, beginTime, endTime))
    .filter((r) => !seen.has(r.SerialNo ?? '') && seen.add(r.SerialNo ?? ''))
    .sort((a, b) => (a.UserReceiveTime ?? 0) - (b.UserReceiveTime ?? 0));
  const offset = offsetSeconds(options.utcOffset ?? PUSH_DEFAULTS.utcOffset) ?? 0;
  const size = options.batchSize ?? PUSH_DEFAULTS.batchSize;
  const batches: CallbackReceipt[][] = [];
  for (let i = 0; i < receipts.length; i += size)
    batches.push(receipts.slice(i, i + size).map((r) => callbackReceipt(r, offset)));
  return batches;
}

/** Resolves after `ms`, or at once when `signal` aborts (the caller checks it). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return ms > 0 ? delay(ms, undefined, { signal }).catch(() => undefined) : Promise.resolve();
}

/**
 * Spaces requests evenly so the receiver never gets more than `rate` receipts a second, retries included:
 * each request takes its batch's share of time, and time lost to a slow receiver is not made up in a burst.
 */
function pacer(rate: number): (size: number, signal: AbortSignal) => Promise<void> {
  let nextAt = 0;
  return async (size, signal) => {
    const now = performance.now();
    const at = Math.max(now, nextAt);
    nextAt = at + (size / rate) * 1000;
    await sleep(at - now, signal);
  };
}

interface Delivery {
  url: string;
  timeoutMs: number;
  backoffMs: [number, number];
  pace: (size: number, signal: AbortSignal) => Promise<void>;
  stats: PushStats;
  signal: AbortSignal;
}

/** Sends one batch until it is acknowledged or the push stops; a careful sender gives no batch up. */
async function deliver(batch: CallbackReceipt[], d: Delivery): Promise<void> {
  const [first, most] = d.backoffMs;
  for (let attempt = 0; !d.signal.aborted; attempt++) {
    if (attempt > 0) await sleep(Math.min(most, first * 2 ** (attempt - 1)), d.signal);
    await d.pace(batch.length, d.signal);
    if (d.signal.aborted) return;
    d.stats.requests++;
    if (attempt > 0) d.stats.retries++;
    const problem = await sendBatch(d.url, batch, d.timeoutMs, d.signal);
    if (problem === undefined) {
      d.stats.ackedBatches++;
      d.stats.acked += batch.length;
      return;
    }
    if (!d.signal.aborted) d.stats.lastError = problem;
  }
}

/** Starts pushing the twin's receipts to `options.url` (options already checked by `pushProblem`). */
export function startPush(options: PushOptions, source: PushSource): PushJob {
  const batches = planBatches(options, source);
  const stats: PushStats = {
    url: options.url,
    batches: batches.length,
    receipts: batches.reduce((sum, b) => sum + b.length, 0),
    ackedBatches: 0,
    acked: 0,
    requests: 0,
    retries: 0,
    done: false,
    stopped: false,
  };
  const controller = new AbortController();
  const delivery: Delivery = {
    url: options.url,
    timeoutMs: options.timeoutMs ?? PUSH_DEFAULTS.timeoutMs,
    backoffMs: options.backoffMs ?? PUSH_DEFAULTS.backoffMs,
    pace: pacer(options.rate ?? PUSH_DEFAULTS.rate),
    stats,
    signal: controller.signal,
  };
  const run = async (): Promise<PushStats> => {
    // One batch in flight at a time: the receiver sees the receipts in receive-time order.
    for (const batch of batches) {
      if (controller.signal.aborted) break;
      await deliver(batch, delivery);
    }
    stats.done = stats.ackedBatches === batches.length;
    return { ...stats };
  };
  return {
    stats: () => ({ ...stats }),
    stop() {
      // A push whose last batch is acknowledged is done, even before `finished` has said so.
      if (stats.ackedBatches === stats.batches) return;
      stats.stopped = true;
      controller.abort();
    },
    finished: run(),
  };
}
