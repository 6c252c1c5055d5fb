import type { PullSmsSendStatus } from '#lib/tencent/types.ts';
import type { TwinOptions, TwinStats } from '../../local/twin/twin.ts';

/** The stack's twin runs in another process: tests reach it through its control endpoints. */
export function twinControl(url: string) {
  const get = async <T>(path: string): Promise<T> => (await fetch(`${url}${path}`)).json() as Promise<T>;
  return {
    stats: () => get<TwinStats>('/_twin/stats'),
    reset: () => get<TwinStats>('/_twin/reset'),
    truth: (phoneNumber: string, beginTime: number, endTime: number) =>
      get<PullSmsSendStatus[]>(
        `/_twin/truth?phoneNumber=${encodeURIComponent(phoneNumber)}&beginTime=${beginTime}&endTime=${endTime}`,
      ),
    configure: async (patch: Pick<TwinOptions, 'latencyMs' | 'faults' | 'rateLimit'>): Promise<void> => {
      await fetch(`${url}/_twin/configure`, { method: 'POST', body: JSON.stringify(patch) });
    },
  };
}
