import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import type { TwinPatch, TwinStats } from '../../local/twin/twin.ts';

/** The stack's twin runs in another process: tests reach it through its control endpoints. */
export function twinControl(url: string) {
  const get = async <T>(path: string): Promise<T> => (await fetch(`${url}${path}`)).json() as Promise<T>;
  return {
    stats: () => get<TwinStats>('/_twin/stats'),
    /** The knobs in force (order, latency, faults, …): what /_twin/configure answers too. */
    settings: () => get<TwinPatch>('/_twin/settings'),
    reset: () => get<TwinStats>('/_twin/reset'),
    truth: (phoneNumber: string, beginTime: number, endTime: number) =>
      get<PullSmsSendStatus[]>(
        `/_twin/truth?phoneNumber=${encodeURIComponent(phoneNumber)}&beginTime=${beginTime}&endTime=${endTime}`,
      ),
    /** What the twin's API would answer now: the truth without receipts still held back (late reports). */
    visible: (phoneNumber: string, beginTime: number, endTime: number) =>
      get<PullSmsSendStatus[]>(
        `/_twin/visible?phoneNumber=${encodeURIComponent(phoneNumber)}&beginTime=${beginTime}&endTime=${endTime}`,
      ),
    /** `lateReports: null` or `hold: null` turn them off (JSON has no undefined). */
    configure: async (
      patch: Omit<TwinPatch, 'lateReports' | 'hold'> & {
        lateReports?: TwinPatch['lateReports'] | null;
        hold?: TwinPatch['hold'] | null;
      },
    ): Promise<void> => {
      const res = await fetch(`${url}/_twin/configure`, { method: 'POST', body: JSON.stringify(patch) });
      if (!res.ok) throw new Error(`twin configure: ${res.status} ${await res.text()}`);
    },
    /** Moves the twin's clock; resolves its new time in ms. */
    advance: async (seconds: number): Promise<number> => {
      const res = await fetch(`${url}/_twin/advance`, { method: 'POST', body: JSON.stringify({ seconds }) });
      if (!res.ok) throw new Error(`twin advance: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { now: number }).now;
    },
  };
}
