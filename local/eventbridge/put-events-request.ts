/**
 * A PutEvents request body read and held to the rules that refuse the whole call (HTTP 400): a body
 * that is not the JSON the operation takes is a `SerializationException` (the SDK sends `"Time":NaN`
 * for an invalid Date, which is not JSON); 1 to 10 entries and entries totalling less than the size
 * limit (entry-size.ts), else a `ValidationException` with AWS's messages.
 */
import { AwsError, isAwsError, readJsonObject } from './aws-json.ts';
import { requestSize } from '#lib/events/entry-size.ts';

export const MAX_ENTRIES = 10;

/** An entry as sent; every field optional, as in the API model (required ones are checked per entry). */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  /** Seconds since the epoch, as the SDK sends a Date. */
  Time?: number;
  TraceHeader?: string;
}

const STRING_FIELDS = ['Source', 'DetailType', 'Detail', 'EventBusName', 'TraceHeader'] as const;
const FIELDS: readonly string[] = [...STRING_FIELDS, 'Resources', 'Time'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function serialization(message: string): AwsError {
  return new AwsError('SerializationException', message);
}

/**
 * The entry's own fields, JSON nulls dropped (AWS reads null as absent) and unknown members ignored as
 * AWS ignores them, or what is wrong with their types.
 */
function readEntry(value: unknown, field: string): PutEventsEntry | AwsError {
  if (!isObject(value)) return serialization(`${field} must be an object`);
  const entry = Object.fromEntries(Object.entries(value).filter(([name, v]) => FIELDS.includes(name) && v !== null));
  const wrong = STRING_FIELDS.find((name) => name in entry && typeof entry[name] !== 'string');
  if (wrong) return serialization(`${field}.${wrong} must be a string`);
  if ('Time' in entry && typeof entry.Time !== 'number') {
    return serialization(`${field}.Time must be a timestamp in epoch seconds`);
  }
  const { Resources } = entry;
  if (Resources !== undefined && !(Array.isArray(Resources) && Resources.every((r) => typeof r === 'string'))) {
    return serialization(`${field}.Resources must be a list of strings`);
  }
  return entry as PutEventsEntry;
}

/** AWS's wording for a constraint on `entries` that the request breaks. */
function entriesViolation(value: string, constraint: string): AwsError {
  const message = `Value ${value}at 'entries' failed to satisfy constraint: Member must ${constraint}`;
  return new AwsError('ValidationException', `1 validation error detected: ${message}`);
}

function countProblem(count: number): AwsError | undefined {
  if (count < 1) return entriesViolation('', 'have length greater than or equal to 1');
  if (count > MAX_ENTRIES) return entriesViolation('', `have length less than or equal to ${MAX_ENTRIES}`);
  return undefined;
}

/** The request's entries, or the error AWS answers the whole call with. */
export function readPutEvents(body: Buffer, maxRequestBytes: number): PutEventsEntry[] | AwsError {
  const parsed = readJsonObject(body);
  if (isAwsError(parsed)) return parsed;
  const { Entries } = parsed;
  if (Entries === undefined || Entries === null) {
    return entriesViolation('null ', 'not be null');
  }
  if (!Array.isArray(Entries)) return serialization('Entries must be a list of entries');
  const countError = countProblem(Entries.length);
  if (countError) return countError;
  const entries = Entries.map((entry, i) => readEntry(entry, `Entries[${i}]`));
  const wrong = entries.find(isAwsError);
  if (wrong) return wrong;
  const valid = entries as PutEventsEntry[];
  if (requestSize(valid) >= maxRequestBytes) {
    return new AwsError('ValidationException', 'Total size of the entries in the request is over the limit.');
  }
  return valid;
}
