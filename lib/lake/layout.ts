/**
 * The lake's layout. Numbers are spread over a fixed number of groups by a hash of the number, so a
 * number always lands in the same objects whatever list it arrives in (changing GROUPS would lay the
 * same days out twice). One object per day and group: at most 64 objects a day for Athena, and a
 * merge streams through one group's day, never the whole day's receipts.
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

/** A group's part of a key: part-07. Its day objects and its state objects are named by it. */
export function groupPart(group: number): string {
  return `part-${String(group).padStart(2, '0')}`;
}

/** The receipts: what the Glue table `delivery_statuses` reads. */
export function statusesPrefix(prefix: string): string {
  return `${prefix}/statuses/`;
}

/** The folder of one UTC day's objects: the table's `dt` partition. */
export function dayPrefix(prefix: string, day: string): string {
  return `${statusesPrefix(prefix)}dt=${day}/`;
}

/** The group of a day object's key (`…/part-GG.jsonl.gz`), or undefined for another key. */
export function groupOfKey(key: string): number | undefined {
  const part = /\/part-(\d{2})\.jsonl\.gz$/.exec(key)?.[1];
  return part === undefined ? undefined : Number(part);
}

/** The UTC day of a day object's key (`…/statuses/dt=<day>/…`), or undefined for another key. */
export function dayOfKey(key: string): string | undefined {
  return /\/statuses\/dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1];
}

/** Hive-style partition by the receipt's own UTC date; one object per day and group. */
export function objectKey(prefix: string, day: string, group: number): string {
  return `${dayPrefix(prefix, day)}${groupPart(group)}.jsonl.gz`;
}

/**
 * Where a corrupt object is copied before it is rebuilt, beside the data so Athena never reads it:
 * `_quarantine/<its key under the prefix>`, plus the digest of the bytes kept when the key alone does not
 * name them (a day object is rewritten in place; an inbox object is written once).
 */
export function quarantineKey(prefix: string, key: string, digest?: string): string {
  const kept = `${prefix}/_quarantine/${key.slice(prefix.length + 1)}`;
  return digest === undefined ? kept : `${kept}.${digest.slice(0, 32)}`;
}

/** The callback's inbox: one object per batch, until the drain merges it. */
export function inboxPrefix(prefix: string): string {
  return `${prefix}/_inbox/`;
}

/** A batch's inbox object: `_inbox/<UTC hour of its earliest receipt>/<sha256 of its canonical lines>`. */
export function inboxKey(prefix: string, hour: string, digest: string): string {
  return `${inboxPrefix(prefix)}${hour}/${digest}.jsonl.gz`;
}

/** The lake's own ledger (rebuilt day objects, the jobs that export): apart from every job's state. */
export function ledgerKey(prefix: string): string {
  return `${prefix}/_lake/ledger.json`;
}

/** A job's own state: its checkpoint, its owed windows (`pending/part-GG`), its plain run's marker. */
export function jobKey(prefix: string, jobId: string, name: string): string {
  return `${prefix}/_state/${jobId}/${name}.json`;
}

/** Everything one run keeps while it runs (its plan, frozen work, progress): deleted once it commits. */
export function runPrefix(prefix: string, jobId: string, runId: string): string {
  return `${prefix}/_state/${jobId}/runs/${runId}/`;
}

export function runKey(prefix: string, jobId: string, runId: string, name: string): string {
  return `${runPrefix(prefix, jobId, runId)}${name}.json`;
}

/** A run's summary, under the UTC day the run started, which its id begins with (YYYYMMDDThhmmssZ-…). */
export function summaryKey(prefix: string, runId: string): string {
  return `${prefix}/_runs/dt=${runId.slice(0, 4)}-${runId.slice(4, 6)}-${runId.slice(6, 8)}/${runId}.json`;
}

/** The delivery events a merge is about to make, kept until EventBridge has them (lib/events/outbox.ts). */
export function outboxPrefix(prefix: string): string {
  return `${prefix}/_outbox/`;
}

/** One merge's events: under the UTC hour they were kept in, so the oldest are listed first. */
export function outboxKey(prefix: string, keptAt: Date, id: string): string {
  return `${outboxPrefix(prefix)}${keptAt.toISOString().replace(/[-:]|\.\d+/g, '')}-${id}.json`;
}
