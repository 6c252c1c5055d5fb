import { styleText } from 'node:util';
import { redactText } from '#lib/observability/redact.ts';

/**
 * The functions' own log lines out of serverless-offline's output. The functions run in its process
 * (useInProcess), so their stdout is its stdout: a Powertools log line is one JSON object with `level`
 * and `message`, and names its function in `function_name` (the Lambda context's, which
 * serverless-offline sets to sms-status-<stage>-<function>). Lines are masked already (the logger's
 * redact). serverless-offline's own lines are left out, for they print request paths with the number
 * in them, all but its error lines (✖ / ×: a function that failed to load or threw), which are masked
 * here. EMF metric lines are left out too: they are metrics, not logs.
 */
export type LogMode = 'pretty' | 'json' | 'quiet';

export type LogEntry = Record<string, unknown> & { level: string; message: string };

/** Fields every Powertools line has: the pretty form shows them in its prefix or not at all. */
const CONTEXT_FIELDS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
]);
const OFFLINE_ERROR = /^\s*(✖|×)\s*(.*)$/;
type Style = Parameters<typeof styleText>[0];
const LEVEL_STYLE: Record<string, Style> = {
  DEBUG: 'gray',
  INFO: 'green',
  WARN: 'yellow',
  ERROR: 'red',
  CRITICAL: 'red',
};

/** A function's log line, or serverless-offline's error line as one; undefined for anything else. */
export function functionLogEntry(line: string): LogEntry | undefined {
  const text = line.trim();
  if (text.startsWith('{')) {
    try {
      const entry = JSON.parse(text) as Record<string, unknown>;
      if (typeof entry.level === 'string' && typeof entry.message === 'string') return entry as LogEntry;
    } catch {
      return undefined;
    }
    return undefined;
  }
  const error = OFFLINE_ERROR.exec(text);
  if (!error) return undefined;
  return { level: 'ERROR', message: redactText(error[2] as string), function_name: 'serverless-offline' };
}

/** sms-status-dev-lookup → lookup. */
function shortName(functionName: unknown): string {
  if (typeof functionName !== 'string') return 'function';
  return functionName.replace(/^sms-status-[^-]+-/, '');
}

function clock(timestamp: unknown): string {
  const date = typeof timestamp === 'string' ? new Date(timestamp) : new Date();
  return Number.isNaN(date.getTime()) ? '--:--:--' : date.toTimeString().slice(0, 8);
}

/** Where the function's frames end and serverless-offline's (and hapi's under it) begin. */
const OFFLINE_FRAME = /\/node_modules\/serverless-offline\//;

/** A stack logged with an error, indented under its line: the function's frames, not offline's. */
function stackOf(entry: LogEntry): string {
  const stack = (entry.error as { stack?: unknown } | undefined)?.stack;
  if (typeof stack !== 'string') return '';
  const frames = stack.split('\n').slice(1);
  const end = frames.findIndex((f) => OFFLINE_FRAME.test(f));
  const ours = end === -1 ? frames : frames.slice(0, end);
  return ours.length ? `\n${ours.map((l) => `    ${l.trim()}`).join('\n')}` : '';
}

/** `12:01:02 lookup   INFO  lookup {"phoneNumber":"+86*******2222",…}` (colours only where the stream takes them). */
export function prettyLine(entry: LogEntry, stream: NodeJS.WriteStream = process.stdout): string {
  const rest = Object.fromEntries(
    Object.entries(entry)
      .filter(([key]) => !CONTEXT_FIELDS.has(key))
      .map(([key, value]) => [key, key === 'error' ? withoutStack(value) : value]),
  );
  const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  const level = styleText(LEVEL_STYLE[entry.level] ?? 'white', entry.level.padEnd(5), { stream });
  const name = styleText('cyan', shortName(entry.function_name).padEnd(8), { stream });
  return `${clock(entry.timestamp)} ${name} ${level} ${entry.message}${fields}${stackOf(entry)}`;
}

function withoutStack(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const { stack: _stack, ...rest } = error as Record<string, unknown>;
  return rest;
}

/**
 * A sink for serverless-offline's output, one line at a time: the functions' lines as they are (JSON)
 * or pretty, or nothing.
 */
export function functionLogWriter(mode: LogMode, stream: NodeJS.WriteStream = process.stdout): (line: string) => void {
  if (mode === 'quiet') return () => {};
  return (line) => {
    const entry = functionLogEntry(line);
    if (!entry) return;
    stream.write(`${mode === 'pretty' ? prettyLine(entry, stream) : JSON.stringify(entry)}\n`);
  };
}
