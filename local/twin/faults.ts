import type http from 'node:http';
import type { StatsRecorder } from './stats.ts';
import { respondError } from './tencent-response.ts';

export type FaultKind = 'timeout' | 'http5xx' | 'reset' | 'internalTimeout';
export const FAULT_KINDS: readonly FaultKind[] = ['timeout', 'http5xx', 'reset', 'internalTimeout'];
/** A scripted answer for the next request: a fault, or a Tencent error code. */
export type ScriptedFault = FaultKind | { code: string };

export interface FaultOptions {
  /** Share of requests (0–1) that get a random fault of `kinds`. */
  rate?: number;
  kinds?: FaultKind[];
  /** How long a `timeout` fault holds the connection before dropping it. */
  hangMs?: number;
  /** Answers for the next requests, in order, before any random fault. */
  script?: ScriptedFault[];
}

/** Chooses the fault, if any, for each request: the script first, then random faults at `rate`. */
export interface FaultPicker {
  /** Starts `options.script` afresh, as each new `faults` setting does. */
  rescript(options: FaultOptions): void;
  next(options: FaultOptions): ScriptedFault | undefined;
}

export function createFaultPicker(random: () => number): FaultPicker {
  let script: ScriptedFault[] = [];
  return {
    rescript(options) {
      script = [...(options.script ?? [])];
    },
    next(options) {
      if (script.length > 0) return script.shift();
      const { rate = 0, kinds = FAULT_KINDS } = options;
      if (rate > 0 && random() < rate) return kinds[Math.floor(random() * kinds.length)];
      return undefined;
    },
  };
}

/** Answers the request with `fault`: the failures a client of the real API meets on the network or from Tencent. */
export function injectFault(
  fault: ScriptedFault,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  stats: StatsRecorder,
  hangMs = 30_000,
): void {
  stats.fault();
  if (typeof fault === 'object')
    return respondError(res, stats, { code: fault.code, message: `Injected ${fault.code}.` });
  switch (fault) {
    case 'timeout': {
      const timer = setTimeout(() => req.socket.destroy(), hangMs);
      req.socket.once('close', () => clearTimeout(timer));
      return;
    }
    case 'http5xx':
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      return;
    case 'reset':
      req.socket.resetAndDestroy();
      return;
    case 'internalTimeout':
      return respondError(res, stats, { code: 'InternalError.Timeout', message: 'Injected InternalError.Timeout.' });
  }
}
