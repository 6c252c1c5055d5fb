/**
 * The EventBridge operations the stand-in serves: PutEvents, answered one result per entry in request
 * order, and DescribeEventBus, the one way a client can learn that a bus exists (see `unknownBus`).
 */
import { randomUUID } from 'node:crypto';
import { AwsError, isAwsError, readJsonObject } from './aws-json.ts';
import { busName, checkEntry, type CheckedEntry, type EntryRefusal } from './entry-rules.ts';
import type { EventEnvelope, EventLog, StoredEvent } from './event-log.ts';
import type { Faults } from './faults.ts';
import { readPutEvents, type PutEventsEntry } from './put-events-request.ts';
import type { StatsRecorder } from './stats.ts';

/**
 * An entry for a bus that does not exist: `refuse` answers it `ResourceNotFoundException`; `drop`
 * answers an EventId and keeps nothing, as AWS has been reported to do (aws/aws-cli#9186, 2025;
 * LocalStack matched it against AWS in localstack#8264), which hides a misspelt bus name.
 */
export type UnknownBusMode = 'refuse' | 'drop';

/** What an operation reads and records; `region` is the one the caller signed for. */
export interface OperationContext {
  buses: ReadonlySet<string>;
  unknownBus: UnknownBusMode;
  maxRequestBytes: number;
  account: string;
  region: string;
  faults: Faults;
  log: EventLog;
  stats: StatsRecorder;
}

type ResultEntry = { EventId: string } | EntryRefusal;

interface PutEventsResponse {
  FailedEntryCount: number;
  Entries: ResultEntry[];
}

/** One entry's answer and what follows from it: an event to keep, or a refusal or a drop to count. */
interface Outcome {
  answer: ResultEntry;
  event?: Omit<StoredEvent, 'seq'>;
  dropped?: boolean;
}

/** EventBridge writes `time` to the second. */
function eventTime(at: number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function envelope({ entry, detail }: CheckedEntry, id: string, context: OperationContext): EventEnvelope {
  return {
    version: '0',
    id,
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: context.account,
    time: eventTime(entry.Time === undefined ? Date.now() : entry.Time * 1000),
    region: context.region,
    resources: entry.Resources ?? [],
    detail,
  };
}

function outcomeOf(entry: PutEventsEntry, context: OperationContext): Outcome {
  const checked = checkEntry(entry);
  if ('ErrorCode' in checked) return { answer: checked };
  const bus = busName(entry);
  if (!context.buses.has(bus)) {
    if (context.unknownBus === 'drop') return { answer: { EventId: randomUUID() }, dropped: true };
    return { answer: { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` } };
  }
  const fault = context.faults.entryFault();
  if (fault) return { answer: fault };
  const id = randomUUID();
  return { answer: { EventId: id }, event: { bus, event: envelope(checked, id, context) } };
}

export function putEvents(body: Buffer, context: OperationContext): PutEventsResponse | AwsError {
  const entries = readPutEvents(body, context.maxRequestBytes);
  if (isAwsError(entries)) return entries;
  const outcomes = entries.map((entry) => outcomeOf(entry, context));
  context.log.append(outcomes.flatMap((outcome) => (outcome.event ? [outcome.event] : [])));
  for (const { answer, dropped } of outcomes) {
    if ('ErrorCode' in answer) context.stats.refused(answer.ErrorCode);
    else context.stats.count(dropped ? 'entriesDropped' : 'entriesAccepted');
  }
  const answers = outcomes.map((outcome) => outcome.answer);
  return { FailedEntryCount: answers.filter((answer) => 'ErrorCode' in answer).length, Entries: answers };
}

export function describeEventBus(body: Buffer, context: OperationContext): { Name: string; Arn: string } | AwsError {
  const request = readJsonObject(body);
  if (isAwsError(request)) return request;
  const { Name } = request;
  if (Name !== undefined && Name !== null && typeof Name !== 'string') {
    return new AwsError('SerializationException', 'Name must be a string');
  }
  const name = busName({ EventBusName: Name ?? undefined });
  if (!context.buses.has(name)) return new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
  return { Name: name, Arn: `arn:aws:events:${context.region}:${context.account}:event-bus/${name}` };
}
