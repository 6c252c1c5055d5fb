/**
 * The rules that refuse one PutEvents entry while the rest of the call goes on: the answer's entry
 * then carries `ErrorCode` and `ErrorMessage` instead of an `EventId`. Codes and messages are AWS's
 * (PutEventsResultEntry in the API reference; messages as AWS words them where known).
 */
import type { PutEventsEntry } from './put-events-request.ts';

export interface EntryRefusal {
  ErrorCode: string;
  ErrorMessage: string;
}

/** An entry that passed the rules, with its Detail parsed. */
export interface CheckedEntry {
  entry: PutEventsEntry & { Source: string; DetailType: string; Detail: string };
  detail: Record<string, unknown>;
}

const REQUIRED = ['Source', 'DetailType', 'Detail'] as const;

function invalidArgument(field: string, reason: string): EntryRefusal {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}` };
}

/** The Detail as a JSON object, or undefined: an array, a string or a number is as malformed as bad JSON. */
function parseDetail(detail: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(detail);
    const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    return isObject ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The entry's refusal, or the entry ready to become an event. The bus is checked by the caller. */
export function checkEntry(entry: PutEventsEntry): EntryRefusal | CheckedEntry {
  const missing = REQUIRED.find((field) => !entry[field]);
  if (missing) return invalidArgument(missing, `${missing} is a required argument.`);
  const { Source, DetailType, Detail } = entry as CheckedEntry['entry'];
  if (entry.Time !== undefined && Number.isNaN(new Date(entry.Time * 1000).getTime())) {
    return invalidArgument('Time', `${entry.Time} is not a timestamp in epoch seconds.`);
  }
  // AWS's own services publish under aws.*; an account may not.
  if (Source.startsWith('aws.')) {
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: `Not authorized for the source ${Source}.` };
  }
  const detail = parseDetail(Detail);
  if (!detail) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  return { entry: { ...entry, Source, DetailType, Detail }, detail };
}

/** The bus an entry names: its name, or the name inside an event bus ARN; `default` when none is named. */
export function busName(entry: PutEventsEntry): string {
  const named = entry.EventBusName || 'default';
  const arn = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(named);
  return arn?.[1] ?? named;
}
