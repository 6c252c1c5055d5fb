import { createHash } from 'node:crypto';
import { oldestDefaultBegin } from '#lib/status/query.ts';

/**
 * Numbers are spread over a fixed number of shards by a hash of the number, so a number always lands
 * in the same objects whatever list it arrives in. Changing it would lay the same days out twice.
 */
export const SHARDS = 16;

export interface Window {
  beginTime: number;
  endTime: number;
}

export interface WindowSettings {
  /** Receipts arrive late: each scheduled run re-reads this much before the checkpoint. */
  latenessSeconds: number;
  /** How far the very first scheduled run looks back. */
  initialLookbackSeconds: number;
}

export function shardOf(phoneNumber: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < phoneNumber.length; i++) {
    h ^= phoneNumber.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

/** Numbers of each shard, sorted, so a cursor into a shard means the same numbers on every run. */
export function byShard(numbers: string[]): string[][] {
  const shards: string[][] = Array.from({ length: SHARDS }, () => []);
  for (const number of numbers) shards[shardOf(number)]?.push(number);
  return shards.map((list) => list.sort());
}

export function utcDay(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** Hive-style partition by the receipt's own UTC date; one object per day and shard. */
export function objectKey(prefix: string, day: string, shard: number): string {
  return `${prefix}/statuses/dt=${day}/part-${String(shard).padStart(2, '0')}.jsonl.gz`;
}

/** The scheduled window: from the checkpoint less the lateness overlap (or the first look-back) to now. */
export function scheduledWindow(checkpointEnd: number | undefined, nowSeconds: number, settings: WindowSettings): Window {
  const wanted =
    checkpointEnd === undefined ? nowSeconds - settings.initialLookbackSeconds : checkpointEnd - settings.latenessSeconds;
  return { beginTime: Math.min(nowSeconds, Math.max(wanted, oldestDefaultBegin(nowSeconds))), endTime: nowSeconds };
}

export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
