import { randomBytes } from 'node:crypto';
import { outboxKey, outboxPrefix } from '#lib/lake/layout.ts';
import type { ChangeLog, MergeChanges } from '#lib/lake/merge.ts';
import { readJson, writeJson, type ListingStore, type Versioned } from '#lib/lake/store.ts';
import { eventsOf, type DeliveryDetail, type Origin } from './event.ts';

/** One merge's delivery events, kept before the merge writes its object and until EventBridge has them. */
export interface OutboxEntry {
  /** The day object the merge writes: where a sweep checks the lake holds each receipt as told. */
  key: string;
  keptAt: string;
  events: DeliveryDetail[];
}

export interface OutboxPlace {
  store: ListingStore;
  bucket: string;
  prefix: string;
}

/**
 * The outbox (`$EXPORT_PREFIX/_outbox/`): the change log of merges that make delivery events
 * (docs/events.md). An entry is written, only if absent, before its merge writes the lake; it is
 * deleted once EventBridge accepted all its events, rewritten with the rest when it accepted some,
 * and deleted at once when its merge lost a race and wrote nothing.
 */
export class Outbox implements ChangeLog {
  readonly #place: OutboxPlace;
  readonly #origin: Origin;
  readonly #now: () => number;
  /** Entries this writer staged and has not read back: its own delivery needs no GET of what it just wrote. */
  readonly #staged = new Map<string, Versioned<OutboxEntry>>();

  constructor(place: OutboxPlace, origin: Origin, now: () => number = Date.now) {
    this.#place = place;
    this.#origin = origin;
    this.#now = now;
  }

  async stage(key: string, changes: MergeChanges): Promise<string> {
    const keptAt = new Date(this.#now());
    const handle = outboxKey(this.#place.prefix, keptAt, randomBytes(8).toString('hex'));
    const entry: OutboxEntry = { key, keptAt: keptAt.toISOString(), events: eventsOf(changes, this.#origin) };
    const etag = await writeJson(this.#place.store, this.#place.bucket, handle, entry, { ifNoneMatch: '*' });
    this.#staged.set(handle, { value: entry, etag });
    return handle;
  }

  async discard(handle: string): Promise<void> {
    this.#staged.delete(handle);
    await this.#place.store.delete(this.#place.bucket, handle);
  }

  async read(handle: string): Promise<Versioned<OutboxEntry> | undefined> {
    const mine = this.#staged.get(handle);
    this.#staged.delete(handle);
    return mine ?? readJson<OutboxEntry>(this.#place.store, this.#place.bucket, handle);
  }

  /**
   * What is left of an entry once some of its events are published: nothing (deleted), or the rest, on condition of the
   * version read.
   */
  async settle(handle: string, entry: Versioned<OutboxEntry>, owed: DeliveryDetail[]): Promise<void> {
    if (owed.length === 0) return this.discard(handle);
    // Nothing was sent or given up (owed is drawn from the entry's events): the entry stands as it is.
    if (owed.length === entry.value.events.length) return;
    await writeJson(
      this.#place.store,
      this.#place.bucket,
      handle,
      { ...entry.value, events: owed },
      { ifMatch: entry.etag },
    );
  }

  /** The entries waiting, oldest first. */
  waiting(limit: number): Promise<string[]> {
    return this.#place.store.list(this.#place.bucket, outboxPrefix(this.#place.prefix), limit);
  }
}
