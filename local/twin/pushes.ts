import { pushProblem, type PushOptions } from './push-options.ts';
import { startPush, type PushJob, type PushSource } from './push.ts';

/** The twin's pushes: starts them, remembers the latest for /_twin/push, and stops them all when the twin closes. */
export interface Pushes {
  /** Starts a push; throws a TypeError naming the field when an option is unusable. */
  push(options: PushOptions): PushJob;
  /** The push started last, running or not. */
  lastPush(): PushJob | undefined;
  stopAll(): void;
}

export function createPushes(source: PushSource): Pushes {
  const running = new Set<PushJob>();
  let latest: PushJob | undefined;
  return {
    push(options) {
      const problem = pushProblem(options);
      if (problem) throw new TypeError(`twin push: ${problem}`);
      const job = startPush(options, source);
      running.add(job);
      void job.finished.then(() => running.delete(job));
      latest = job;
      return job;
    },
    lastPush: () => latest,
    stopAll() {
      for (const job of running) job.stop();
    },
  };
}
