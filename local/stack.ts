import { randomBytes } from 'node:crypto';
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
  echo?: boolean;
  logPath?: string;
}

export interface Stack {
  twin?: Twin;
  s3: LocalS3;
  offline: Offline;
  apiKey: string;
  /** Tencent's status callback on this stack: POST a batch of receipts here (the token is in the path). */
  callbackUrl: string;
  /** The environment the functions run with: handy for the CLI against the same stack. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * The whole product on loopback: the Tencent twin (unless TENCENT_SMS_ENDPOINT or real credentials are
 * given), s3rver with the export bucket, and serverless-offline running the bundled functions.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const base = options.env;
  const useTwin = !base.TENCENT_SMS_ENDPOINT && !base.TENCENTCLOUD_SECRET_ID;
  const started: Array<{ close(): Promise<void> } | { stop(): Promise<void> }> = [];
  const stopAll = async (): Promise<void> => {
    for (const part of started.reverse()) await ('stop' in part ? part.stop() : part.close());
  };
  try {
    const twin = useTwin ? await startTwin({ ...twinOptionsFromEnv(base), port: options.ports.twin, ...options.twin }) : undefined;
    if (twin) started.push(twin);
    const s3 = await startLocalS3({ port: options.ports.s3, bucket: base.EXPORT_BUCKET || undefined });
    started.push(s3);
    const apiKey = base.SMS_STATUS_API_KEY || `local-${randomBytes(12).toString('hex')}`;
    const callbackToken = base.SMS_STATUS_CALLBACK_TOKEN || `local-callback-${randomBytes(24).toString('hex')}`;
    const env: NodeJS.ProcessEnv = {
      ...base,
      ...localEnv({ twin }),
      // serverless-offline runs the functions' schedules. The inbox's every-minute drain would overlap the
      // local drain (local/inbox-drain.ts, one invocation at a time): it is off here.
      INBOX_SCHEDULE_ENABLED: 'false',
      // The demo numbers are what a bare scheduled export pulls locally.
      EXPORT_PHONE_NUMBERS: base.EXPORT_PHONE_NUMBERS || (twin ? Object.keys(DEMO_NUMBERS).join(',') : undefined),
      SMS_STATUS_API_KEY: apiKey,
      SMS_STATUS_CALLBACK_TOKEN: callbackToken,
      EXPORT_BUCKET: s3.bucket,
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_ACCESS_KEY_ID: base.AWS_ACCESS_KEY_ID || s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: base.AWS_SECRET_ACCESS_KEY || s3.credentials.secretAccessKey,
      AWS_REGION: base.AWS_REGION || 'us-east-1',
    };
    const offline = await startOffline({ httpPort: options.ports.http, lambdaPort: options.ports.lambda, env, echo: options.echo, logPath: options.logPath });
    started.push(offline);
    const callbackUrl = `${offline.httpUrl}/dev/v1/callbacks/tencent/${callbackToken}`;
    return { twin, s3, offline, apiKey, callbackUrl, env, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
