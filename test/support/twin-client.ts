import { createClient, type ClientOptions, type TencentClient } from '#lib/tencent/client.ts';
import { staticCredentials } from '#lib/tencent/credentials.ts';
import type { Twin } from '../../local/twin/twin.ts';

/** The product's own Tencent client, pointed at a twin with the credentials and app it accepts. */
export function twinClient(twin: Twin, options: Partial<ClientOptions> = {}): TencentClient {
  return createClient({
    endpoint: twin.url,
    region: 'ap-guangzhou',
    sdkAppId: twin.sdkAppId,
    credentials: staticCredentials(twin.credentials),
    timeoutMs: 3000,
    ...options,
  });
}
