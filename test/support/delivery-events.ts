/**
 * What the delivery-event tests check, with real parts: the events a stand-in (or the shared stack's
 * events file) received, held against the receipts the lake holds; the CLI and the inbox drain as child
 * processes that can be killed (SIGKILL) at a chosen moment; and a gate in front of the EventBridge
 * stand-in that kills a writer just before (or just after) its Nth PutEvents call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import type { DeliveryDetail } from '#lib/events/event.ts';
import type { ExportRecord } from '#lib/lake/line.ts';
import { s3ClientConfig } from '#lib/lake/s3/client-config.ts';
import { listKeys, readExport } from '../../local/read-export.ts';
import type { LocalS3 } from '../../local/s3.ts';
import { close, listen } from './net.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A receipt's own fields, in a fixed order: what an event must carry of the lake's version. */
export function receiptOf(r: ExportRecord | DeliveryDetail): string {
  const { serialNo, phoneNumber, countryCode, subscriberNumber, reportStatus, description, userReceiveTime, sdkAppId } =
    r;
  return JSON.stringify([
    serialNo,
    phoneNumber,
    countryCode,
    subscriberNumber,
    reportStatus,
    description,
    userReceiveTime,
    sdkAppId ?? null,
  ]);
}

/** Events held against the lake: the lake's receipts with no event, events of nothing the lake holds, duplicates. */
export interface EventAudit {
  lake: number;
  events: number;
  /** Lake receipts no event tells as they are. */
  missing: string[];
  /** Events whose receipt the lake does not hold as told (none for nothing). */
  forNothing: string[];
  /** Events beyond one per distinct event body. */
  duplicates: number;
  /** Receipts with two different event bodies: a duplicate that is not identical. */
  notIdentical: string[];
  /** duplicates ÷ lake receipts. */
  duplicateRate: number;
}

export function auditEvents(details: DeliveryDetail[], lake: ExportRecord[]): EventAudit {
  const held = new Set(lake.map(receiptOf));
  const told = new Set(details.map(receiptOf));
  const bodies = new Map<string, Set<string>>();
  for (const detail of details) {
    const seen = bodies.get(detail.serialNo) ?? new Set<string>();
    seen.add(JSON.stringify(detail));
    bodies.set(detail.serialNo, seen);
  }
  const distinct = [...bodies.values()].reduce((sum, seen) => sum + seen.size, 0);
  return {
    lake: lake.length,
    events: details.length,
    missing: lake.filter((r) => !told.has(receiptOf(r))).map((r) => r.serialNo),
    forNothing: details.filter((d) => !held.has(receiptOf(d))).map((d) => d.serialNo),
    duplicates: details.length - distinct,
    notIdentical: [...bodies].filter(([, seen]) => seen.size > 1).map(([serial]) => serial),
    duplicateRate: lake.length === 0 ? 0 : (details.length - distinct) / lake.length,
  };
}

/** Every event the shared stack's stand-in accepted (its JSON-lines file), as details. */
export async function eventsInFile(file: string): Promise<DeliveryDetail[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { event: { detail: DeliveryDetail } }).event.detail);
}

export function lakeClient(s3: LocalS3): S3Client {
  return new S3Client({
    ...s3ClientConfig({ local: true }),
    endpoint: s3.url,
    region: 'us-east-1',
    credentials: s3.credentials,
  });
}

/** The receipts under a prefix's statuses/, and the outbox entries still waiting there. */
export async function lakeOf(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ records: ExportRecord[]; outbox: string[] }> {
  const records = (await readExport(client, bucket, prefix)).flatMap((o) => o.records);
  return { records, outbox: await listKeys(client, bucket, `${prefix}/_outbox/`) };
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Launched {
  child: ChildProcess;
  done: Promise<ChildRun>;
}

/** `node <script> …args` from the repository root with only `env` (and PATH, HOME); killed after `timeoutMs`. */
export function launch(script: string, args: string[], env: Record<string, string>, timeoutMs = 120_000): Launched {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = (once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>).then(([code, signal]) => {
    clearTimeout(timer);
    return { code, signal, stdout, stderr };
  });
  return { child, done };
}

/** `sms-status export …` as a user runs it. */
export function launchExport(args: string[], env: Record<string, string>): Launched {
  return launch('cli/sms-status.js', ['export', ...args], env);
}

/** One invocation of the inbox drain's Lambda handler (functions/inbox.ts) in a process of its own. */
export function launchDrain(env: Record<string, string>): Launched {
  return launch('test/support/drain-child.ts', [], {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...env,
  });
}

/** When a gate acts on a PutEvents call: before passing it on (EventBridge never sees it), or once it was answered. */
export type GatePhase = 'before' | 'after';

export interface PutEventsGate {
  url: string;
  /** PutEvents calls that reached the gate so far. */
  calls(): number;
  /** `act` runs at the given call and phase, once (the test kills its writer there); cleared by `clear`. */
  at(call: number, phase: GatePhase, act: () => void): void;
  clear(): void;
  close(): Promise<void>;
}

/**
 * A proxy in front of the EventBridge stand-in that counts PutEvents calls and runs an action at a
 * chosen one: `before` it reaches EventBridge (the writer dies between its lake write and PutEvents), or
 * `after` EventBridge accepted it (the writer dies before it could take the events out of its outbox).
 */
export async function putEventsGate(upstream: string): Promise<PutEventsGate> {
  const target = new URL(upstream);
  let calls = 0;
  let plan: { call: number; phase: GatePhase; act: () => void } | undefined;
  const fire = (call: number, phase: GatePhase): boolean => {
    if (plan?.call !== call || plan.phase !== phase) return false;
    const { act } = plan;
    plan = undefined;
    act();
    return true;
  };
  const server = http.createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      const call = req.headers['x-amz-target'] === 'AWSEvents.PutEvents' ? ++calls : 0;
      if (call > 0 && fire(call, 'before')) return void res.destroy();
      const outgoing = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            if (call > 0 && fire(call, 'after')) return void res.destroy();
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          });
        },
      );
      outgoing.on('error', () => res.destroy());
      outgoing.end(Buffer.concat(body));
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    at(call, phase, act) {
      plan = { call, phase, act };
    },
    clear() {
      plan = undefined;
    },
    close: () => close(server),
  };
}
