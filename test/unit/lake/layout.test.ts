import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  byGroup,
  dayOfKey,
  dayPrefix,
  fnv1a,
  GROUPS,
  groupOf,
  groupOfKey,
  groupPart,
  inboxKey,
  inboxPrefix,
  jobKey,
  ledgerKey,
  objectKey,
  quarantineKey,
  runKey,
  runPrefix,
  SHARDS,
  shardOfGroup,
  statusesPrefix,
  summaryKey,
} from '#lib/lake/layout.ts';
import { utcDay } from '#lib/utc-day.ts';

const DAY = 24 * 3600;

const e164 = fc
  .tuple(fc.integer({ min: 1, max: 9 }), fc.stringMatching(/^\d{6,14}$/))
  .map(([first, rest]) => `+${first}${rest}`);

describe('groupOf', () => {
  it('is an integer in [0, GROUPS) for any string', () => {
    expect(GROUPS).toBe(64);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const group = groupOf(text);
        expect(Number.isInteger(group)).toBe(true);
        expect(group).toBeGreaterThanOrEqual(0);
        expect(group).toBeLessThan(GROUPS);
      }),
    );
  });

  it('is stable: the same number always lands in the same group (these values must never change)', () => {
    // Changing the hash would lay the same days out a second time under other objects.
    expect(groupOf('+8613711112222')).toBe(57);
    expect(groupOf('+8613800138000')).toBe(0);
    expect(groupOf('+8615000150000')).toBe(0);
    expect(groupOf('+8613600136000')).toBe(8);
    expect(groupOf('+14155550123')).toBe(54);
    expect(groupOf('+8613900139000')).toBe(54);
    fc.assert(
      fc.property(e164, (n) => {
        expect(groupOf(n)).toBe(groupOf(['+', n.slice(1)].join('')));
      }),
    );
  });

  it('spreads numbers over every group', () => {
    const counts = new Array<number>(GROUPS).fill(0);
    for (let i = 0; i < 6400; i++) counts[groupOf(`+86137${String(i).padStart(8, '0')}`)]! += 1;
    for (const count of counts) {
      expect(count).toBeGreaterThan(6400 / GROUPS / 2);
      expect(count).toBeLessThan((6400 / GROUPS) * 2);
    }
  });

  it('maps groups onto the SHARDS Step Functions shards, every shard getting GROUPS / SHARDS groups', () => {
    expect(SHARDS).toBe(16);
    const perShard = new Array<number>(SHARDS).fill(0);
    for (let group = 0; group < GROUPS; group++) {
      const shard = shardOfGroup(group);
      expect(shard).toBe(group % SHARDS);
      perShard[shard]! += 1;
    }
    expect(perShard).toEqual(new Array<number>(SHARDS).fill(GROUPS / SHARDS));
  });
});

describe('byGroup', () => {
  it('lists the non-empty groups in order, each number in its group, sorted, whatever the input order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(e164, { maxLength: 60 }), (numbers) => {
        const groups = byGroup(numbers);
        expect([...groups.keys()]).toEqual([...groups.keys()].sort((a, b) => a - b));
        for (const [group, list] of groups) {
          expect(list.length).toBeGreaterThan(0);
          expect(list).toEqual([...list].sort());
          for (const number of list) expect(groupOf(number)).toBe(group);
        }
        expect([...groups.values()].flat().sort()).toEqual([...numbers].sort());
        expect([...byGroup([...numbers].reverse())]).toEqual([...groups]);
      }),
    );
  });

  it('does not sort its input in place', () => {
    const input = ['+8613800138000', '+8613711112222', '+14155550123'];
    const copy = [...input];
    byGroup(input);
    expect(input).toEqual(copy);
  });
});

describe('utcDay and objectKey', () => {
  it('dates a receipt by its UTC day, whatever the host time zone', () => {
    const midnight = Date.UTC(2024, 4, 1) / 1000;
    expect(utcDay(midnight - 1)).toBe('2024-04-30');
    expect(utcDay(midnight)).toBe('2024-05-01');
    expect(utcDay(midnight + DAY - 1)).toBe('2024-05-01');
    expect(utcDay(Date.UTC(2024, 1, 29, 12) / 1000)).toBe('2024-02-29');
  });

  it('lays out Hive-style day partitions with a two-digit group part', () => {
    expect(objectKey('sms-status', '2024-05-01', 3)).toBe('sms-status/statuses/dt=2024-05-01/part-03.jsonl.gz');
    expect(objectKey('a/b', '2024-12-31', 15)).toBe('a/b/statuses/dt=2024-12-31/part-15.jsonl.gz');
    expect(objectKey('p', '2024-12-31', 63)).toBe('p/statuses/dt=2024-12-31/part-63.jsonl.gz');
    expect(objectKey('p', '2024-01-01', 0)).toBe('p/statuses/dt=2024-01-01/part-00.jsonl.gz');
  });

  it('every group and day give a distinct key matching the documented pattern', () => {
    const keys = new Set<string>();
    for (let group = 0; group < GROUPS; group++) {
      for (const day of ['2024-05-01', '2024-05-02']) {
        const key = objectKey('sms-status', day, group);
        expect(key).toMatch(/^sms-status\/statuses\/dt=\d{4}-\d{2}-\d{2}\/part-\d{2}\.jsonl\.gz$/);
        keys.add(key);
      }
    }
    expect(keys.size).toBe(2 * GROUPS);
  });
});

describe('fnv1a', () => {
  it('is FNV-1a, 32 bits (the published test vectors)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });
});

describe('the keys of a day object', () => {
  it('name the group in two digits, under the day’s dt= folder under statuses/', () => {
    expect(groupPart(7)).toBe('part-07');
    expect(groupPart(63)).toBe('part-63');
    expect(statusesPrefix('sms-status')).toBe('sms-status/statuses/');
    expect(dayPrefix('sms-status', '2024-05-01')).toBe('sms-status/statuses/dt=2024-05-01/');
    expect(objectKey('sms-status', '2024-05-01', 7).startsWith(dayPrefix('sms-status', '2024-05-01'))).toBe(true);
  });

  it('give back their group and day, for every group; any other key gives neither', () => {
    for (let group = 0; group < GROUPS; group++) {
      const key = objectKey('a/b', '2024-12-31', group);
      expect([groupOfKey(key), dayOfKey(key)]).toEqual([group, '2024-12-31']);
    }
    const others: Array<[string, number | undefined, string | undefined]> = [
      ['a/_state/job/pending/part-03.json', undefined, undefined],
      ['a/_inbox/2024-05-01T10/x.jsonl.gz', undefined, undefined],
      ['a/statuses/dt=2024-05/part-03.jsonl.gz', 3, undefined],
      ['a/statuses/dt=2024-05-01/part-3.jsonl.gz', undefined, '2024-05-01'],
    ];
    for (const [key, group, day] of others) expect([groupOfKey(key), dayOfKey(key)], key).toEqual([group, day]);
  });
});

describe('the keys beside the data', () => {
  const key = objectKey('sms-status', '2024-05-01', 3);

  it('a quarantined copy lies under _quarantine/, outside statuses/, named by its bytes’ digest when given', () => {
    const digest = 'ab'.repeat(32);
    expect(quarantineKey('sms-status', key)).toBe('sms-status/_quarantine/statuses/dt=2024-05-01/part-03.jsonl.gz');
    const kept = 'sms-status/_quarantine/statuses/dt=2024-05-01/part-03.jsonl.gz';
    expect(quarantineKey('sms-status', key, digest)).toBe(`${kept}.${'ab'.repeat(16)}`);
    expect(quarantineKey('sms-status', key, digest).startsWith(statusesPrefix('sms-status'))).toBe(false);
  });

  it('the inbox, the lake’s ledger, a job’s state and a run’s objects each have their own folder', () => {
    expect(inboxKey('p', '2024-05-01T10', 'd1')).toBe('p/_inbox/2024-05-01T10/d1.jsonl.gz');
    expect(inboxKey('p', '2024-05-01T10', 'd1').startsWith(inboxPrefix('p'))).toBe(true);
    expect(ledgerKey('p')).toBe('p/_lake/ledger.json');
    expect(jobKey('p', 'scheduled-1', 'pending/part-03')).toBe('p/_state/scheduled-1/pending/part-03.json');
    expect(runKey('p', 'scheduled-1', 'r1', 'plan')).toBe('p/_state/scheduled-1/runs/r1/plan.json');
    expect(runKey('p', 'scheduled-1', 'r1', 'plan').startsWith(runPrefix('p', 'scheduled-1', 'r1'))).toBe(true);
    // One run's prefix is no other run's: clearing r1 leaves r10.
    expect(runKey('p', 'scheduled-1', 'r10', 'plan').startsWith(runPrefix('p', 'scheduled-1', 'r1'))).toBe(false);
  });

  it('a run’s summary lies under the UTC day its id begins with', () => {
    expect(summaryKey('p', '20250615T150640Z-0a1b2c3d')).toBe('p/_runs/dt=2025-06-15/20250615T150640Z-0a1b2c3d.json');
  });
});
