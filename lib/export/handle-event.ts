import { redactText } from '#lib/observability/redact.ts';
import { commitRun } from './commit.ts';
import { RunStore } from './run-store.ts';
import { planRun } from './planner.ts';
import { requestOf } from './request.ts';
import { runExport } from './run.ts';
import type { ExportDeps, ExportSettings, Plan, RunSummary } from './types.ts';
import { exportShard, storedRun, workflowEventOf, type ShardResult } from './workflow.ts';

export interface ExportEventDeps extends ExportDeps {
  /** The run report: told of a plain run's summary after each invocation, and of a workflow's once it commits. */
  reportRun: (summary: RunSummary) => void;
}

export type ExportEventResult = RunSummary | Plan | ShardResult;

/**
 * One invocation of the export Lambda. Step Functions steps carry an `action` (plan, shard, commit);
 * anything else (EventBridge Scheduler, `aws lambda invoke`) is a plain run. A plain run cut short by
 * the time limit returns `complete: false` and the next invocation resumes it; numbers still failing
 * after the in-run retries make it throw UpstreamUnavailable (or RateLimited) once the run is
 * reported, so the platform retries after a pause and the resumed run gives just those numbers
 * another chance (a shard step throws the same way: exportShard). Errors keep their taxonomy names.
 */
export async function handleExportEvent(
  deps: ExportEventDeps,
  settings: ExportSettings,
  event: unknown,
): Promise<ExportEventResult> {
  const step = workflowEventOf(event);
  switch (step?.action) {
    case undefined: {
      const { summary, retryLater } = await runExport(deps, settings, requestOf(event));
      deps.reportRun(summary);
      if (retryLater) throw retryLater;
      return summary;
    }
    case 'plan':
      return planRun(deps, settings, requestOf(step.request));
    case 'shard':
      return exportShard(deps, settings, step.run, step.shard);
    case 'commit': {
      const { plan, committed } = await storedRun(deps, settings, step.run);
      // A commit retried or replayed after it committed: the summary stands (its clean-up is finished), and was
      // reported already.
      if (committed) {
        await new RunStore(deps.store, settings.bucket, settings.prefix).clear(step.run);
        return masked(committed);
      }
      const summary = await commitRun(deps, settings, plan as Plan, step.results);
      deps.reportRun(summary);
      return masked(summary);
    }
  }
}

/**
 * What a workflow keeps in its state and history: the summary with every phone number masked. Step
 * Functions keeps execution history for 90 days where anyone with states:GetExecutionHistory reads it;
 * the full lists are in the run's objects in S3 (`_state/<job>/…`), under the bucket's access rules.
 */
function masked(summary: RunSummary): RunSummary {
  return JSON.parse(JSON.stringify(summary), (_key, value: unknown) =>
    typeof value === 'string' ? redactText(value) : value,
  ) as RunSummary;
}
