/** The stand-in's counters: what clients sent and how it was answered; tests diff two snapshots. */
export interface EventBridgeStats {
  /** EventBridge calls received (PutEvents and DescribeEventBus), however they were answered. */
  calls: number;
  /** Calls refused whole with an injected ThrottlingException. */
  callsThrottled: number;
  /** Calls answered InternalException in down mode. */
  callsDown: number;
  /** Calls refused whole for what they sent (ValidationException, SerializationException, unknown operation…). */
  callsInvalid: number;
  entriesAccepted: number;
  /** Entries refused, by ErrorCode (injected failures included). */
  entriesRefused: Record<string, number>;
  /** Entries for an unknown bus answered with an EventId and dropped (`unknownBus: 'drop'`), as AWS does. */
  entriesDropped: number;
  /** Events kept in memory for GET /_eventbridge/events (the most recent `maxEvents`). */
  eventsKept: number;
}

export type StatsCounter = Exclude<keyof EventBridgeStats, 'entriesRefused' | 'eventsKept'>;

export interface StatsRecorder {
  snapshot(eventsKept: number): EventBridgeStats;
  count(counter: StatsCounter, by?: number): void;
  refused(code: string): void;
}

export function createStats(): StatsRecorder {
  const counts: Record<StatsCounter, number> = {
    calls: 0,
    callsThrottled: 0,
    callsDown: 0,
    callsInvalid: 0,
    entriesAccepted: 0,
    entriesDropped: 0,
  };
  const refused: Record<string, number> = {};
  return {
    snapshot: (eventsKept) => ({ ...counts, entriesRefused: { ...refused }, eventsKept }),
    count(counter, by = 1) {
      counts[counter] += by;
    },
    refused(code) {
      refused[code] = (refused[code] ?? 0) + 1;
    },
  };
}
