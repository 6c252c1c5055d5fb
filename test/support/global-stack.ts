import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStack } from '../../local/stack.ts';
import {
  clearPackageLock,
  PACKAGE_CHINA,
  PACKAGE_CHINA_ARGS,
  PACKAGE_PLAIN,
  PACKAGE_WITH_SECRET,
  packageService,
} from './package.ts';
import { freePorts } from './ports.ts';

export interface StackInfo {
  /** The HTTP API through the local edge, as callers reach it. */
  httpUrl: string;
  /** serverless-offline's HTTP port itself, behind the edge. */
  offlineHttpUrl: string;
  /** The Lambda API through the local edge (errors under their own names). */
  lambdaUrl: string;
  /** serverless-offline's Lambda port itself (every errorType "Error"). */
  offlineLambdaUrl: string;
  apiKey: string;
  twinUrl: string;
  s3Url: string;
  bucket: string;
  /** The EventBridge stand-in the functions publish delivery events to (local/eventbridge/). */
  eventsUrl: string;
  /** The stand-in's JSON-lines file: every event it accepted, however many (its memory keeps the latest 1000). */
  eventsFile: string;
  /** serverless-offline's output, the functions' logs included. */
  logPath: string;
  /** `serverless package` output folders: default parameters (PACKAGE_PLAIN), and a secret, bucket and prefix set. */
  packages: { plain: string; withSecret: string; china: string };
  env: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

/** One local stack (twin, s3rver, serverless-offline) for the whole integration run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ports = await freePorts('http', 'lambda', 's3', 'twin');
  // No hourly export firing in the middle of a test run. The functions log at the default level to
  // `logPath`, which lookup-http.test.ts reads (whatever the shell running the tests says).
  const env: NodeJS.ProcessEnv = { ...process.env, EXPORT_SCHEDULE_ENABLED: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' };
  for (const name of [
    'TENCENT_SMS_ENDPOINT',
    'TENCENTCLOUD_SECRET_ID',
    'TENCENTCLOUD_SECRET_KEY',
    'SMS_SDK_APP_ID',
    'TENCENTCLOUD_SESSION_TOKEN',
    // The functions always publish to the stack's own EventBridge stand-in, whatever the shell says.
    'AWS_ENDPOINT_URL_EVENTBRIDGE',
    'EVENT_BUS_NAME',
    'EVENTS_ENABLED',
  ]) {
    delete env[name];
  }
  const logPath = join(await mkdtemp(join(tmpdir(), 'sms-status-logs-')), 'offline.log');
  // Packaging runs one at a time: concurrent `serverless package` runs in one project trip each other.
  await clearPackageLock();
  const plain = await packageService(PACKAGE_PLAIN);
  const withSecret = await packageService(PACKAGE_WITH_SECRET);
  const china = await packageService(PACKAGE_CHINA, PACKAGE_CHINA_ARGS);
  const stack = await startStack({ ports, env, logPath });
  const events = stack.events;
  if (!events?.settings().eventsFile) throw new Error('the stack started no EventBridge stand-in with an events file');
  project.provide('stack', {
    httpUrl: stack.httpUrl,
    offlineHttpUrl: stack.offline.httpUrl,
    lambdaUrl: stack.lambdaUrl,
    offlineLambdaUrl: stack.offline.lambdaUrl,
    apiKey: stack.apiKey,
    twinUrl: stack.twin?.url ?? '',
    s3Url: stack.s3.url,
    eventsUrl: events.url,
    eventsFile: events.settings().eventsFile as string,
    bucket: stack.s3.bucket,
    logPath,
    packages: { plain: plain.dir, withSecret: withSecret.dir, china: china.dir },
    env: Object.fromEntries(Object.entries(stack.env).filter((e): e is [string, string] => typeof e[1] === 'string')),
  });
  return async () => {
    await stack.stop();
    await rm(plain.dir, { recursive: true, force: true });
    await rm(withSecret.dir, { recursive: true, force: true });
    await rm(china.dir, { recursive: true, force: true });
  };
}
