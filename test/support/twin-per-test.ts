import { afterEach } from 'vitest';
import { startTwin, type Twin, type TwinOptions } from '../../local/twin/twin.ts';

/** A fresh twin for each test that asks for one, closed after it. */
export function twinPerTest(): (options?: TwinOptions) => Promise<Twin> {
  let twin: Twin | undefined;
  afterEach(async () => {
    await twin?.close();
    twin = undefined;
  });
  return async (options = {}) => {
    twin = await startTwin(options);
    return twin;
  };
}
