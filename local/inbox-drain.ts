/**
 * Locally the inbox function (which AWS runs every minute) is invoked through the Lambda endpoint every
 * few seconds instead, one invocation at a time, as its reserved concurrency of 1 allows in AWS; its own
 * schedule is off in serverless-offline (local/stack.ts), so the two never overlap.
 */
export interface InboxDrain {
  /** Invokes the drain now (after any invocation in flight) and answers its summary. */
  now(): Promise<unknown>;
  stop(): Promise<void>;
}

export function startInboxDrain(lambdaUrl: string, everyMs: number, stage = 'dev'): InboxDrain {
  const url = `${lambdaUrl}/2015-03-31/functions/sms-status-${stage}-inbox/invocations`;
  let chain: Promise<unknown> = Promise.resolve();
  const stopped = new AbortController();
  const invoke = (): Promise<unknown> => {
    const next = chain.then(async () =>
      (await fetch(url, { method: 'POST', body: '{}', signal: stopped.signal })).json(),
    );
    chain = next.catch(() => undefined);
    return next;
  };
  // A drain that fails (the stack restarting) is simply tried again at the next tick.
  const timer = setInterval(() => void invoke().catch(() => undefined), everyMs);
  return {
    now: invoke,
    async stop() {
      clearInterval(timer);
      stopped.abort();
      await chain;
    },
  };
}
