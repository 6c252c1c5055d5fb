import { freePort } from '../../local/free-port.ts';

export { freePort };

export async function freePorts<const K extends string>(...names: K[]): Promise<Record<K, number>> {
  const out = {} as Record<K, number>;
  for (const name of names) out[name] = await freePort();
  return out;
}
