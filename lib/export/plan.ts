import { createHash } from 'node:crypto';
import { oldestDefaultBegin } from '#lib/status/query.ts';
import type { Window, WindowSettings } from './types.ts';

export type { Window, WindowSettings };

/**
 * Numbers are spread over a fixed number of groups by a hash of the number, so a number always lands
 * in the same objects whatever list it arrives in (changing GROUPS would lay the same days out twice).
 * One object per day and group: at most 64 objects a day for Athena, and a merge streams through one
 * group's day, never the whole day's receipts.
 */
export const GROUPS = 64;
/** Step Functions fan-out: shard s exports the groups g with g % SHARDS === s. */
export const SHARDS = 16;


/** FNV-1a: a stable, well-spread 32-bit hash of a string. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function groupOf(phoneNumber: string): number {
  return fnv1a(phoneNumber) % GROUPS;
}

export function shardOfGroup(group: number): number {
  return group % SHARDS;
}

/** The non-empty groups, by group id, each with its numbers sorted. */
export function byGroup(numbers: string[]): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const number of numbers) {
    const group = groupOf(number);
    let list = groups.get(group);
    if (!list) groups.set(group, (list = []));
    list.push(number);
  }
  for (const list of groups.values()) list.sort();
  return new Map([...groups].sort(([a], [b]) => a - b));
}

export function utcDay(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** Hive-style partition by the receipt's own UTC date; one object per day and group. */
export function objectKey(prefix: string, day: string, group: number): string {
  return `${prefix}/statuses/dt=${day}/part-${String(group).padStart(2, '0')}.jsonl.gz`;
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
