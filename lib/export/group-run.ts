import type { LimitFunction } from 'p-limit';
import type { GroupWork, RunStore } from './run-store.ts';
import type { ExportDeps, ExportSettings, Plan } from './types.ts';

/** The run's progress over every group, for the CLI's progress line (counted from what groups record). */
export class ProgressLine {
  numbersDone = 0;
  records = 0;
  readonly #deps: Pick<ExportDeps, 'onProgress'>;
  readonly #total: number;

  constructor(deps: Pick<ExportDeps, 'onProgress'>, plan: Plan) {
    this.#deps = deps;
    this.#total = plan.numbers.total;
  }

  add(numbersDone: number, records: number): void {
    this.numbersDone += numbersDone;
    this.records += records;
  }

  show(): void {
    this.#deps.onProgress?.({ numbersDone: this.numbersDone, numbersTotal: this.#total, records: this.records });
  }
}

/** What every group of one invocation shares: read-only, but for the progress line and the stop signal. */
export interface GroupRun {
  deps: ExportDeps;
  settings: ExportSettings;
  plan: Plan;
  /** The run's objects: built once per invocation. */
  store: RunStore;
  /** Bounds the numbers pulled at once, across all groups. */
  limitPulls: LimitFunction;
  progressLine: ProgressLine;
  /** A group failed: the others stop after their current chunk. */
  stop: AbortController;
  /** Frozen work this invocation planned itself, so it need not read it back. */
  planned?: Map<number, GroupWork>;
}

/** Time to stop cleanly: another group failed, or less than the reserve is left. */
export function outOfTime({ deps, settings, stop }: GroupRun): boolean {
  return stop.signal.aborted || deps.remainingMs() < settings.reserveMs;
}
