import { InvalidInput } from '#lib/errors.ts';
import { shardOfGroup } from '#lib/lake/layout.ts';
import type { GroupProgress } from './run-store.ts';
import type { Plan } from './types.ts';

/**
 * What a workflow's `results` (the Map's output) may say of a shard, checked against the run's own
 * progress in S3, which alone is trusted: a shard the workflow caught (`{shard, error}`) is refused; a
 * shard whose groups are not all done, and that the results do not record as refused, means the commit
 * came too early or was made up. Answers the refused shards.
 */
export function refusedShards(plan: Plan, progress: Array<GroupProgress | undefined>, results: unknown[]): Set<number> {
  const refused = new Set<number>();
  for (const entry of results) {
    const shard = (entry as { shard?: unknown } | null)?.shard;
    if (typeof shard !== 'number' || !plan.shards.includes(shard))
      throw invalid(`each result must name a shard of the run (${plan.shards.join(', ')})`);
    if ((entry as { error?: unknown }).error !== undefined) refused.add(shard);
  }
  for (const shard of plan.shards) {
    const done = plan.groups.every((group, i) => shardOfGroup(group) !== shard || progress[i]?.done);
    if (!done && !refused.has(shard))
      throw invalid(
        `shard ${shard} is neither done (its progress says so) nor recorded as refused: commit once the Map has finished`,
      );
  }
  return refused;
}

function invalid(why: string): InvalidInput {
  return new InvalidInput(`results: ${why}`, { field: 'results' });
}
