import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Where local stacks and the tests' packages build (gitignored): serverless-esbuild deletes its work
 * folder when packaging is done, and a plain `serverless package` or deploy works in `.esbuild`.
 */
export const LOCAL_BUILDS = '.esbuild-local';
const SERVERLESS = fileURLToPath(new URL('../node_modules/serverless/bin/serverless.js', import.meta.url));

export interface Offline {
  httpUrl: string;
  lambdaUrl: string;
  /** Everything serverless-offline printed, for diagnostics. */
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash would: nothing gets to finish. */
  kill(): Promise<void>;
}

export interface OfflineOptions {
  httpPort: number;
  lambdaPort: number;
  env: NodeJS.ProcessEnv;
  /** Told each line serverless-offline prints, the functions' log lines among them (local/function-logs.ts). */
  onLine?: (line: string) => void;
  /** Also append its output to this file (tests read the functions' logs from it). */
  logPath?: string;
}

/** `serverless offline start` as a child process in its own process group, ready when its ports answer. */
export async function startOffline(options: OfflineOptions): Promise<Offline> {
  // Not under .esbuild: a `serverless package` deletes that folder when it is done (LOCAL_BUILDS).
  const workFolder = `${LOCAL_BUILDS}/offline-${options.httpPort}`;
  const child = spawn(process.execPath, [SERVERLESS, 'offline', 'start'], {
    cwd: PROJECT_ROOT,
    env: {
      ...options.env,
      SLS_TELEMETRY_DISABLED: '1',
      HTTP_PORT: String(options.httpPort),
      LAMBDA_PORT: String(options.lambdaPort),
      ESBUILD_WORK_FOLDER: workFolder,
      // Locally there is no IAM to sign against: the local API keeps its API key (npm start says so).
      LOOKUP_AUTH: 'api-key',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const log = options.logPath ? createWriteStream(options.logPath, { flags: 'a' }) : undefined;
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    log?.write(chunk);
  };
  child.once('exit', () => log?.end());
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', collect);
    if (options.onLine) createInterface({ input: stream as Readable, crlfDelay: Infinity }).on('line', options.onLine);
  }
  const offline: Offline = {
    httpUrl: `http://127.0.0.1:${options.httpPort}`,
    lambdaUrl: `http://127.0.0.1:${options.lambdaPort}`,
    output: () => output,
    stop: async () => {
      await stopGroup(child);
      await rm(join(PROJECT_ROOT, workFolder), { recursive: true, force: true });
    },
    kill: () => stopGroup(child, 'SIGKILL'),
  };
  try {
    await waitForPort(offline.httpUrl, child, () => output);
    await waitForPort(offline.lambdaUrl, child, () => output);
  } catch (error) {
    await offline.stop();
    throw error;
  }
  return offline;
}

async function waitForPort(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serverless offline exited (${child.exitCode}):\n${output()}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(250);
    }
  }
  throw new Error(`serverless offline did not answer on ${url} within 120 s:\n${output()}`);
}

async function stopGroup(child: ChildProcess, first: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  // A process killed by a signal has no exit code, only a signal code: either means it is gone.
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), name);
    } catch {
      // Already gone.
    }
  };
  signal(first);
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
