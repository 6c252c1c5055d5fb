import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import { fnv1a } from './fnv1a.ts';
import { prng } from './prng.ts';

/**
 * Late carrier reports: a share of receipts reaches the API only some time after its UserReceiveTime
 * (carriers report up to 72 h late). Which receipts, and each one's delay, follow from the SerialNo and
 * the twin's `seed` alone, so the same receipts are late on every start with the same clock and seed;
 * raising `share` keeps the receipts already late and adds more.
 */
export interface LateReports {
  /** Share of receipts, 0–1, reported late. */
  share: number;
  /** Seconds after UserReceiveTime when a late receipt becomes visible: fixed, or uniform in [min, max] per receipt. */
  delaySeconds: number | [number, number];
}

/** What holds receipts back: explicit holds by SerialNo first, then the late-report share. */
export interface Holds {
  hold?: Record<string, number>;
  lateReports?: LateReports;
}

/** Unix seconds from which the API returns this receipt: its UserReceiveTime unless held back. */
export function visibleAt(receipt: PullSmsSendStatus, holds: Holds, seed: number): number {
  const received = receipt.UserReceiveTime as number;
  const serialNo = receipt.SerialNo as string;
  const held = holds.hold && Object.hasOwn(holds.hold, serialNo) ? holds.hold[serialNo] : undefined;
  if (held !== undefined) return Math.max(received, held);
  const late = holds.lateReports;
  if (!late || late.share <= 0) return received;
  // Its own stream per receipt: the first draw decides whether it is late, the second its delay.
  const draw = prng(fnv1a(`${seed}:late:${serialNo}`));
  if (draw() >= late.share) return received;
  const [min, max] = typeof late.delaySeconds === 'number' ? [late.delaySeconds, late.delaySeconds] : late.delaySeconds;
  return received + Math.round(min + draw() * (max - min));
}
