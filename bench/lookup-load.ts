import { setTimeout as sleep } from 'node:timers/promises';
import { startStack } from '../local/stack.ts';
import { freePorts } from '../test/support/ports.ts';

export interface LookupLoadResult {
  clients: number;
  seconds: number;
  answers: number;
  byStatus: Record<string, number>;
  retryAfterMissing: number;
  twinMaxPerSecond: number;
  twinThrottled: number;
  twinRate: number;
}

/** `clients` callers hammering GET …/statuses through serverless-offline for `seconds`. */
export async function hammerLookups(clients = 50, seconds = 10): Promise<LookupLoadResult> {
  const ports = await freePorts('http', 'lambda', 's3', 'twin');
  const env: NodeJS.ProcessEnv = { ...process.env, EXPORT_SCHEDULE_ENABLED: 'false' };
  for (const name of ['TENCENT_SMS_ENDPOINT', 'TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'SMS_SDK_APP_ID'])
    delete env[name];
  const stack = await startStack({ ports, env, twin: { latencyMs: [100, 300] } });
  const twin = stack.twin;
  if (!twin) throw new Error('the load benchmark needs the local twin');
  try {
    const url = `${stack.offline.httpUrl}/dev/v1/phone-numbers/%2B8613711112222/statuses?limit=1`;
    await fetch(url, { headers: { 'x-api-key': stack.apiKey } }); // cold start outside the measurement
    twin.resetStats();
    const byStatus: Record<string, number> = {};
    let retryAfterMissing = 0;
    const until = performance.now() + seconds * 1000;
    const client = async (): Promise<void> => {
      while (performance.now() < until) {
        const response = await fetch(url, { headers: { 'x-api-key': stack.apiKey } });
        await response.arrayBuffer();
        byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
        if (response.status === 429 && !(Number(response.headers.get('retry-after')) >= 1)) retryAfterMissing += 1;
        await sleep(50);
      }
    };
    await Promise.all(Array.from({ length: clients }, client));
    const stats = twin.stats();
    const active = ((stats.lastAcceptedAt ?? 0) - (stats.firstAcceptedAt ?? 0)) / 1000;
    return {
      clients,
      seconds,
      answers: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      retryAfterMissing,
      twinMaxPerSecond: stats.maxPerSecond,
      twinThrottled: stats.throttled,
      twinRate: active > 0 ? (stats.accepted - 1) / active : 0,
    };
  } finally {
    await stack.stop();
  }
}
