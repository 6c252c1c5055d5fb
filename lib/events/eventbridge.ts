import type { EventBridgeClient, PutEventsCommand as PutEvents } from '@aws-sdk/client-eventbridge';
import type { EventSink } from './publish.ts';

/**
 * The EventSink over Amazon EventBridge's PutEvents (AWS_ENDPOINT_URL_EVENTBRIDGE honoured by the SDK
 * itself, as for a local stand-in). The SDK loads on the first call, so a writer that makes no event
 * never loads it. Its own retries are off: publish.ts retries only the entries that failed.
 */
export function eventBridgeSink(): EventSink {
  let loading: Promise<{ client: EventBridgeClient; PutEventsCommand: typeof PutEvents }> | undefined;
  const load = async () => {
    const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    return { client: new EventBridgeClient({ maxAttempts: 1 }), PutEventsCommand };
  };
  return {
    async put(entries) {
      loading ??= load().catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
      const { client, PutEventsCommand } = await loading;
      const answer = await client.send(new PutEventsCommand({ Entries: entries }));
      return (answer.Entries ?? []).map((e) => ({
        eventId: e.EventId,
        errorCode: e.ErrorCode,
        errorMessage: e.ErrorMessage,
      }));
    },
  };
}
