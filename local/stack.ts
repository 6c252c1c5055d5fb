import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEventBridge, type EventBridge } from './eventbridge/eventbridge.ts';
import { loadEdgeDefinition } from './edge/gateway-responses.ts';
import { startHttpEdge, type HttpEdge } from './edge/http-edge.ts';
import { startLambdaEdge, type LambdaEdge } from './edge/lambda-edge.ts';
import { freePort } from './free-port.ts';
import { localEnv } from './function-env.ts';
import { startOffline, type Offline } from './offline.ts';
import { startLocalS3, type LocalS3 } from './s3.ts';
import { twinOptionsFromEnv } from './twin/env.ts';
import { DEMO_NUMBERS } from './twin/data.ts';
import { startTwin, type Twin, type TwinOptions } from './twin/twin.ts';

export interface StackPorts {
  http: number;
  lambda: number;
  s3: number;
  twin: number;
}

export interface StackOptions {
  ports: StackPorts;
  env: NodeJS.ProcessEnv;
  /** Options for the twin beyond what the environment says (tests inject faults, clocks, profiles). */
  twin?: TwinOptions;
  /** Told each line serverless-offline prints (`npm start` shows the functions' log lines). */
  onLine?: (line: string) => void;
  logPath?: string;
  /** Throttle lookups at the usage plan's rate, as API Gateway does (`npm start`; tests that hammer leave it off). */
  throttle?: boolean;
}

export interface Stack {
  twin?: Twin;
  s3: LocalS3;
  /** The EventBridge stand-in the functions publish delivery events to (none when AWS_ENDPOINT_URL_EVENTBRIDGE was set). */
  events?: EventBridge;
  /** The HTTP API as callers reach it: the local edge (API Gateway's own answers) in front of offline. */
  httpUrl: string;
  edge: HttpEdge;
  /** The Lambda API (`aws lambda invoke`): errors under their own names, as the Lambda runtime reports them. */
  lambdaUrl: string;
  lambdaEdge: LambdaEdge;
  /** serverless-offline itself, on ports of its own behind both. */
  offline: Offline;
  apiKey: string;
  /** Tencent's status callback on this stack: POST a batch of receipts here (the token is in the path). */
  callbackUrl: string;
  /** The environment the functions run with: handy for the CLI against the same stack. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** The bus a local stack's delivery events go to, unless EVENT_BUS_NAME names another. */
export const LOCAL_BUS = 'sms-status-dev';

/** A file the stand-in appends each event to, for `tail -f`. */
async function eventsFile(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'sms-status-events-')), 'events.jsonl');
}

interface Parts {
  twin?: Twin;
  s3: LocalS3;
  events?: EventBridge;
}

/** The environment the functions run with on this stack (and the CLI against it). */
function functionEnv(base: NodeJS.ProcessEnv, { twin, s3, events }: Parts): NodeJS.ProcessEnv {
  return {
    ...base,
    ...localEnv({ twin }),
    // serverless-offline runs the functions' schedules. The inbox's every-minute drain would overlap the
    // local drain (local/inbox-drain.ts, one invocation at a time): it is off here.
    INBOX_SCHEDULE_ENABLED: 'false',
    // The demo numbers are what a bare scheduled export pulls locally.
    EXPORT_PHONE_NUMBERS: base.EXPORT_PHONE_NUMBERS || (twin ? Object.keys(DEMO_NUMBERS).join(',') : undefined),
    SMS_STATUS_API_KEY: base.SMS_STATUS_API_KEY || `local-${randomBytes(12).toString('hex')}`,
    SMS_STATUS_CALLBACK_TOKEN: base.SMS_STATUS_CALLBACK_TOKEN || `local-callback-${randomBytes(24).toString('hex')}`,
    EXPORT_BUCKET: s3.bucket,
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_ACCESS_KEY_ID: base.AWS_ACCESS_KEY_ID || s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: base.AWS_SECRET_ACCESS_KEY || s3.credentials.secretAccessKey,
    AWS_REGION: base.AWS_REGION || 'us-east-1',
    EVENT_BUS_NAME: base.EVENT_BUS_NAME || LOCAL_BUS,
    ...(events && { AWS_ENDPOINT_URL_EVENTBRIDGE: events.url }),
  };
}

/**
 * The whole product on loopback: the Tencent twin (unless TENCENT_SMS_ENDPOINT or real credentials are
 * given), s3rver with the export bucket, serverless-offline running the bundled functions, and the
 * local edges on the HTTP and Lambda ports answering as API Gateway and Lambda do (local/edge/).
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const base = options.env;
  const useTwin = !base.TENCENT_SMS_ENDPOINT && !base.TENCENTCLOUD_SECRET_ID;
  const started: Array<{ close(): Promise<void> } | { stop(): Promise<void> }> = [];
  const stopAll = async (): Promise<void> => {
    for (const part of started.reverse()) await ('stop' in part ? part.stop() : part.close());
  };
  try {
    const twin = useTwin
      ? await startTwin({ ...twinOptionsFromEnv(base), port: options.ports.twin, ...options.twin })
      : undefined;
    if (twin) started.push(twin);
    const s3 = await startLocalS3({ port: options.ports.s3, bucket: base.EXPORT_BUCKET || undefined });
    started.push(s3);
    // EventBridge: a stand-in, unless AWS_ENDPOINT_URL_EVENTBRIDGE already names one.
    const events = base.AWS_ENDPOINT_URL_EVENTBRIDGE
      ? undefined
      : await startEventBridge({ buses: [LOCAL_BUS], eventsFile: await eventsFile() });
    if (events) started.push(events);
    const env = functionEnv(base, { twin, s3, events });
    const apiKey = env.SMS_STATUS_API_KEY as string;
    const callbackToken = env.SMS_STATUS_CALLBACK_TOKEN as string;
    const definition = await loadEdgeDefinition(env);
    const offlinePorts = { httpPort: await freePort(), lambdaPort: await freePort() };
    const offline = await startOffline({ ...offlinePorts, env, onLine: options.onLine, logPath: options.logPath });
    started.push(offline);
    const { throttle, ports } = options;
    const edge = await startHttpEdge({ port: ports.http, target: offline.httpUrl, apiKey, definition, throttle });
    started.push(edge);
    const lambdaEdge = await startLambdaEdge(options.ports.lambda, offline.lambdaUrl);
    started.push(lambdaEdge);
    const callbackUrl = `${edge.url}/dev/v1/callbacks/tencent/${callbackToken}`;
    const urls = { httpUrl: edge.url, lambdaUrl: lambdaEdge.url };
    return { twin, s3, events, ...urls, edge, lambdaEdge, offline, apiKey, callbackUrl, env, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
