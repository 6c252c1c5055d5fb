import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { createClock } from './clock.ts';
import { DEMO_NUMBERS } from './data.ts';
import { visibleAt } from './late-reports.ts';
import { initialSettings, patched, type TwinOptions, type TwinPatch } from './options.ts';
import { optionsProblem, patchProblem } from './patch-checks.ts';
import { prng } from './prng.ts';
import { pushProblem, type PushOptions } from './push-options.ts';
import type { PushJob } from './push.ts';
import { createPushes } from './pushes.ts';
import { createReceipts } from './receipts.ts';
import { listen } from './server.ts';
import { createSmsApi } from './sms-api.ts';
import { createStats, type TwinStats } from './stats.ts';
import type { TwinCredentials } from './verify.ts';

export type { FaultKind, FaultOptions, ScriptedFault } from './faults.ts';
export type { LateReports } from './late-reports.ts';
export type { TwinOptions, TwinPatch } from './options.ts';
export { TWIN_ORDERS, type TwinOrder } from './order.ts';
export type { TwinStats } from './stats.ts';
export type { PushOptions } from './push-options.ts';
export type { PushJob, PushStats } from './push.ts';

export interface Twin {
  url: string;
  port: number;
  credentials: TwinCredentials;
  sdkAppId: string;
  /** The twin's clock, ms since epoch. */
  now(): number;
  /** Moves the twin's clock by this many seconds (negative goes back); receipts stay where they are. */
  advance(seconds: number): void;
  /** Ground truth: every receipt of a number inside [beginTime, endTime], sorted by receive time, held or not. */
  truth(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
  /** What the API would answer now: `truth` without the receipts still held back (late reports, `hold`). */
  visible(phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[];
  /** Unix seconds from which the API returns this receipt: its UserReceiveTime unless held back. */
  visibleAt(receipt: PullSmsSendStatus): number;
  stats(): TwinStats;
  resetStats(): void;
  /** Changes the knobs; throws a TypeError naming the field when a value is unusable. */
  configure(patch: TwinPatch): void;
  /** Pushes receipts of `truth` to a callback URL as Tencent does; throws a TypeError naming a bad option. */
  push(options: PushOptions): PushJob;
  /** The push started last (by `push`, POST /_twin/push or the `push` start option), running or not. */
  lastPush(): PushJob | undefined;
  /** Stops running pushes, then the server. */
  close(): Promise<void>;
}

export const DEMO_CREDENTIALS: TwinCredentials = {
  secretId: 'AKIDtwinDEMO00000000000000000000',
  secretKey: 'twinDEMOsecretKEY000000000000000',
};
export const DEMO_SDK_APP_ID = '1400000000';

export async function startTwin(options: TwinOptions = {}): Promise<Twin> {
  const problem =
    optionsProblem(options) ?? (options.push === undefined ? undefined : pushProblem(options.push, 'push.'));
  if (problem) throw new TypeError(`twin option ${problem}`);
  const credentials = options.credentials ?? DEMO_CREDENTIALS;
  const sdkAppId = options.sdkAppId ?? DEMO_SDK_APP_ID;
  const seed = options.seed ?? 20210111;
  const clock = createClock(options.clock);
  // Receipts are laid out relative to this hour, so the ground truth is stable for the twin's life.
  const anchor = Math.floor(clock.now() / 1000 / 3600) * 3600;
  const profiles = { ...DEMO_NUMBERS, ...options.numbers };
  const receipts = createReceipts(profiles, anchor, options.perNumber);
  const stats = createStats();
  let settings = initialSettings(options);
  const receiptVisibleAt = (receipt: PullSmsSendStatus): number => visibleAt(receipt, settings, seed);
  const visible = (phoneNumber: string, beginTime: number, endTime: number): PullSmsSendStatus[] => {
    const nowSeconds = clock.now() / 1000;
    return receipts.truth(phoneNumber, beginTime, endTime).filter((s) => receiptVisibleAt(s) <= nowSeconds);
  };
  const getSettings = () => settings;
  const pushes = createPushes({ now: clock.now, truth: receipts.truth, numbers: Object.keys(profiles) });
  const api = createSmsApi({
    credentials,
    sdkAppId,
    now: clock.now,
    settings: getSettings,
    stats,
    receipts,
    visible,
    random: prng(seed),
  });
  const handles = {
    now: clock.now,
    advance: clock.advance,
    truth: receipts.truth,
    visible,
    visibleAt: receiptVisibleAt,
    stats: stats.snapshot,
    resetStats: stats.reset,
    configure(patch: TwinPatch): void {
      const problem = patchProblem(patch);
      if (problem) throw new TypeError(`twin configure: ${problem}`);
      settings = patched(settings, patch);
      if (patch.faults) api.rescript();
    },
    push: pushes.push,
    lastPush: pushes.lastPush,
  };
  const server = await listen(api, { ...handles, settings: getSettings }, stats, options);
  // A push given at start begins once the twin listens, as Tencent pushes while its API answers.
  if (options.push) handles.push(options.push);
  const close = (): Promise<void> => {
    pushes.stopAll();
    return server.close();
  };
  return { url: server.url, port: server.port, credentials, sdkAppId, ...handles, close };
}
