/**
 * A local stand-in for Amazon EventBridge's PutEvents, holding clients to AWS's rules: the AWS SDK v3
 * `EventBridgeClient` reaches it with `endpoint` set to its url, or through the SDK's own
 * `AWS_ENDPOINT_URL_EVENTBRIDGE`. No maintained npm package enforces PutEvents' limits (the nearest,
 * serverless-offline-aws-eventbridge, answers every entry with an EventId), hence this one.
 *
 * Whole calls are refused as AWS refuses them (put-events-request.ts), single entries likewise
 * (entry-rules.ts); accepted events are kept as a rule's target would receive them (event-log.ts), and
 * failures are injected on request (faults.ts). It listens on 127.0.0.1 only, with control routes under
 * /_eventbridge/ (control-routes.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError, isAwsError, operationOf, sendAwsError, sendAwsJson, signedRegion } from './aws-json.ts';
import { handleControl, type ControlTarget } from './control-routes.ts';
import { createEventLog, type StoredEvent } from './event-log.ts';
import { createFaults, FAULT_FIELDS, type FaultPatch, type FaultSettings } from './faults.ts';
import { describeEventBus, putEvents, type OperationContext, type UnknownBusMode } from './operations.ts';
import { createStats, type EventBridgeStats } from './stats.ts';

/**
 * AWS documented "less than 256KB" for a PutEvents call's entries until 2026; it raised EventBridge's
 * payload limit to 1 MB on 2026-01-29 (AWS Compute Blog, "serverless services now support payloads up
 * to 1 MB"), and the SDK's model has said "less than 1MB" since late 2026. The stand-in keeps 256 KiB
 * unless told otherwise: a call it accepts, AWS accepts under either limit.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 256 * 1024;
const UNKNOWN_OPERATION = 'The stand-in serves AWSEvents.PutEvents and AWSEvents.DescribeEventBus (POST /)';
/** Bodies past this are not read: ten entries under any PutEvents limit, JSON-escaped, stay well below. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface EventBridgeOptions extends FaultPatch {
  /** 0 or absent: a free port. */
  port?: number;
  /** Buses besides `default`, which always exists. */
  buses?: string[];
  /** See UnknownBusMode; `refuse` by default. */
  unknownBus?: UnknownBusMode;
  /** The entries of a call must total less than this (entry-size.ts); DEFAULT_MAX_REQUEST_BYTES by default. */
  maxRequestBytes?: number;
  /** Events kept in memory, the most recent; 1000 by default. */
  maxEvents?: number;
  /** Append each accepted event as a JSON line to this file (created if missing). */
  eventsFile?: string;
  /** The account events carry; 000000000000 by default. */
  account?: string;
  /** The region events carry when a request is not signed with one; us-east-1 by default. */
  region?: string;
}

export interface EventBridgeSettings extends FaultSettings {
  buses: string[];
  unknownBus: UnknownBusMode;
  maxRequestBytes: number;
  maxEvents: number;
  eventsFile?: string;
  account: string;
  region: string;
}

export interface EventBridge {
  url: string;
  port: number;
  /** Kept events numbered above `since` (all kept events without it), oldest first. */
  events(since?: number): StoredEvent[];
  stats(): EventBridgeStats;
  settings(): EventBridgeSettings;
  /** Changes fault settings at run time; throws naming the field on a bad value. */
  configure(patch: FaultPatch): void;
  close(): Promise<void>;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`EventBridge stand-in: ${name} must be a whole number above 0`);
  }
  return value;
}

/** The fixed settings, checked; fault settings are checked by createFaults. */
function fixedSettings(options: EventBridgeOptions): Omit<EventBridgeSettings, keyof FaultSettings> {
  const buses = options.buses ?? [];
  if (!Array.isArray(buses) || !buses.every((bus) => typeof bus === 'string' && bus !== '')) {
    throw new TypeError('EventBridge stand-in: buses must be a list of bus names');
  }
  const unknownBus = options.unknownBus ?? 'refuse';
  if (unknownBus !== 'refuse' && unknownBus !== 'drop') {
    throw new TypeError("EventBridge stand-in: unknownBus must be 'refuse' or 'drop'");
  }
  return {
    buses: [...new Set(['default', ...buses])],
    unknownBus,
    maxRequestBytes: positiveInteger(options.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, 'maxRequestBytes'),
    maxEvents: positiveInteger(options.maxEvents, 1000, 'maxEvents'),
    eventsFile: options.eventsFile,
    account: options.account ?? '000000000000',
    region: options.region ?? 'us-east-1',
  };
}

/** The answer to an EventBridge call: a fault first, then the operation the target names. */
function answerCall(context: OperationContext, req: IncomingMessage, body: Buffer): object {
  context.stats.count('calls');
  const fault = context.faults.callFault();
  if (fault) {
    context.stats.count(fault.type === 'ThrottlingException' ? 'callsThrottled' : 'callsDown');
    return fault;
  }
  const operation = operationOf(req);
  const signed = { ...context, region: signedRegion(req) ?? context.region };
  const answer =
    operation === 'PutEvents'
      ? putEvents(body, signed)
      : operation === 'DescribeEventBus'
        ? describeEventBus(body, signed)
        : new AwsError('UnknownOperationException', UNKNOWN_OPERATION);
  if (isAwsError(answer)) context.stats.count('callsInvalid');
  return answer;
}

/** The body, or undefined once it passed MAX_BODY_BYTES (the rest is read and thrown away). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

async function handle(
  context: OperationContext,
  control: ControlTarget,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readBody(req);
  const url = new URL(req.url ?? '/', 'http://eventbridge');
  if (body === undefined) {
    const message = `The request body is over ${MAX_BODY_BYTES} bytes`;
    return sendAwsError(res, new AwsError('RequestEntityTooLargeException', message, 413));
  }
  if (url.pathname.startsWith('/_eventbridge/')) return handleControl(control, url, req.method, body, res);
  const answer = answerCall(context, req, body);
  if (isAwsError(answer)) sendAwsError(res, answer);
  else sendAwsJson(res, answer);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startEventBridge(options: EventBridgeOptions = {}): Promise<EventBridge> {
  const fixed = fixedSettings(options);
  const faults = createFaults(Object.fromEntries(FAULT_FIELDS.map((field) => [field, options[field]])));
  const log = createEventLog(fixed.maxEvents, fixed.eventsFile);
  const stats = createStats();
  const context: OperationContext = { ...fixed, buses: new Set(fixed.buses), faults, log, stats };
  const control = {
    events: (since?: number) => log.since(since),
    stats: () => stats.snapshot(log.kept()),
    settings: (): EventBridgeSettings => ({ ...fixed, buses: [...fixed.buses], ...faults.settings() }),
    configure: (patch: FaultPatch) => faults.configure(patch),
  } satisfies ControlTarget;
  const server = createServer((req, res) => {
    handle(context, control, req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      sendAwsError(res, new AwsError('InternalException', `Stand-in failure: ${reason}`, 500));
    });
  });
  let port: number;
  try {
    port = await listen(server, options.port ?? 0);
  } catch (error) {
    log.close();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return { url: `http://127.0.0.1:${port}`, port, ...control, close: () => (stopped ??= stop(server, log)) };
}

async function stop(server: Server, log: { close(): void }): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  log.close();
}
