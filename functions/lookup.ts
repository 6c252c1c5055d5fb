import { loadTencentConfig } from '#lib/config.ts';
import { LOOKUP_RETRY } from '#lib/pace/retry.ts';
import { connect } from '#lib/tencent/connect.ts';
import { lookupHandlers } from './lookup-app.ts';

// Read once per container: a wrong variable fails the cold start, naming the variable.
const config = loadTencentConfig(process.env);

const MAX_QUEUE_MS = 2000;

export const { handler } = lookupHandlers(connect(config, { retry: LOOKUP_RETRY, maxQueueMs: MAX_QUEUE_MS }), config.rpsBudget, MAX_QUEUE_MS + config.timeoutMs);
