import { describe, expect, it } from 'vitest';
import { handleExportEvent, type ExportEventDeps } from '#lib/export/handle-event.ts';
import { InvalidInput } from '#lib/errors.ts';
import type { Plan, RunSummary } from '#lib/export/types.ts';
import { BUCKET, PREFIX, deps, fakeClient, lake, settings, stateKey, truthOf } from '../../support/export-fixtures.ts';
import { memoryStore, type MemoryStore } from '../../support/memory-store.ts';
import { rejection } from '../../support/net.ts';

const NUMBERS = ['+8613711112222', '+14155550123', '+8613800138000'];

function eventDeps(store: MemoryStore): ExportEventDeps {
  return { ...deps(store, fakeClient()), reportRun: () => undefined };
}

/** The workflow as Step Functions runs it: plan, every shard until done, commit. */
async function planned(store: MemoryStore): Promise<Plan> {
  return (await handleExportEvent(eventDeps(store), settings({ defaults: { phoneNumbers: NUMBERS } }), {
    action: 'plan',
    request: { schedule: 'hourly' },
  })) as Plan;
}

async function shardsDone(store: MemoryStore, plan: Plan): Promise<void> {
  for (const shard of plan.shards) {
    while (
      !((await handleExportEvent(eventDeps(store), settings(), { action: 'shard', plan, shard })) as { done: boolean })
        .done
    );
  }
}

describe('workflow steps take their plan from the run, not from the event', () => {
  it('a forged commit (unknown run, no groups, a window to 2096, a lake object as its shard list) is refused, and changes nothing', async () => {
    const store = memoryStore();
    const plan = await planned(store);
    await shardsDone(store, plan);
    await handleExportEvent(eventDeps(store), settings(), { action: 'commit', plan, results: [] });
    const victim = lake(store)[0]?.key as string;
    const before = store.get(BUCKET, victim);
    const checkpoint = store.json<{ endTime: number }>(BUCKET, stateKey(plan.jobId, 'checkpoint'));
    const forged = {
      ...plan,
      runId: '20250615T170000Z-deadbeef',
      groups: [],
      window: { beginTime: 0, endTime: 4_000_000_000 },
      shardList: { bucket: BUCKET, key: victim },
    };
    const error = await rejection(() =>
      handleExportEvent(eventDeps(store), settings(), { action: 'commit', plan: forged, results: [] }),
    );
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).field).toBe('plan');
    expect(store.get(BUCKET, victim)).toEqual(before);
    expect(store.json(BUCKET, stateKey(plan.jobId, 'checkpoint'))).toEqual(checkpoint);
  });

  it('fields forged into a real run’s plan are ignored: its shards export the run’s own window, its commit counts them', async () => {
    const store = memoryStore();
    const plan = await planned(store);
    const forged = {
      ...plan,
      window: { beginTime: 'a', endTime: 'b' },
      groups: [80, -16, '0', null],
      startedAt: 5,
      shardList: null,
    } as unknown as Plan;
    await shardsDone(store, { ...forged, shards: plan.shards });
    const summary = (await handleExportEvent(eventDeps(store), settings(), {
      action: 'commit',
      plan: forged,
      results: [],
    })) as RunSummary;
    expect(summary).toMatchObject({ complete: true, window: plan.window });
    expect(lake(store)).toHoldExactly(truthOf(NUMBERS, plan.window), { prefix: PREFIX });
  });

  it('a shard of an unknown run is refused naming plan, one not in the plan naming shard; never done: false for ever', async () => {
    const store = memoryStore();
    const plan = await planned(store);
    const unknown = await rejection(() =>
      handleExportEvent(eventDeps(store), settings(), {
        action: 'shard',
        plan: { ...plan, runId: '20250615T170000Z-00000000' },
        shard: plan.shards[0],
      }),
    );
    expect([unknown instanceof InvalidInput, (unknown as InvalidInput).field]).toEqual([true, 'plan']);
    const other = Array.from({ length: 16 }, (_, i) => i).find((s) => !plan.shards.includes(s)) as number;
    const outside = await rejection(() =>
      handleExportEvent(eventDeps(store), settings(), { action: 'shard', plan, shard: other }),
    );
    expect([outside instanceof InvalidInput, (outside as InvalidInput).field]).toEqual([true, 'shard']);
    for (const broken of [{ runId: 5 }, { jobId: '../other' }, { runId: 'nope' }]) {
      const error = await rejection(() =>
        handleExportEvent(eventDeps(store), settings(), {
          action: 'shard',
          plan: { ...plan, ...broken },
          shard: plan.shards[0],
        }),
      );
      expect([error instanceof InvalidInput, (error as InvalidInput).field], JSON.stringify(broken)).toEqual([
        true,
        'plan',
      ]);
    }
  });

  it('a shard or a commit of a run already committed: the shard is done, the commit answers the committed summary', async () => {
    const store = memoryStore();
    const plan = await planned(store);
    await shardsDone(store, plan);
    const first = (await handleExportEvent(eventDeps(store), settings(), {
      action: 'commit',
      plan,
      results: [],
    })) as RunSummary;
    expect(
      await handleExportEvent(eventDeps(store), settings(), { action: 'shard', plan, shard: plan.shards[0] }),
    ).toEqual({ shard: plan.shards[0], done: true });
    expect(await handleExportEvent(eventDeps(store), settings(), { action: 'commit', plan, results: [] })).toEqual(
      first,
    );
    expect(first).toMatchObject({ complete: true, window: plan.window });
  });
});
