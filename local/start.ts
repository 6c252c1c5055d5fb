// `npm start`: the whole product on this machine, on embedded defaults. Never bundled into a Lambda.
import { parseArgs } from 'node:util';
import { wholeSetting } from '#lib/config.ts';
import DEFAULTS from '../config/defaults.cjs';
import { functionLogWriter, type LogMode } from './function-logs.ts';
import { startInboxDrain } from './inbox-drain.ts';
import { startStack, type Stack } from './stack.ts';
import { DEMO_NOTES } from './twin/data.ts';

const DEMO = '+8613711112222';
/** Receipts a second the twin pushes to the local receiver, and how often the inbox is drained into S3. */
const PUSH_RATE = 200;
const DRAIN_EVERY_MS = 5000;
const BUSY = '+8613800138000';

function ports(env: NodeJS.ProcessEnv) {
  return {
    http: wholeSetting(env, 'HTTP_PORT'),
    lambda: wholeSetting(env, 'LAMBDA_PORT'),
    s3: wholeSetting(env, 'S3_PORT'),
    twin: wholeSetting(env, 'TWIN_PORT'),
  };
}

/**
 * The functions' log lines on stdout: pretty on a terminal, JSON lines when piped; none with --quiet
 * or SMS_STATUS_QUIET=1.
 */
function logMode(argv: string[], env: NodeJS.ProcessEnv): LogMode {
  const { values } = parseArgs({ args: argv, options: { quiet: { type: 'boolean' } }, strict: true });
  if (values.quiet || /^(1|true|yes)$/i.test(env.SMS_STATUS_QUIET ?? '')) return 'quiet';
  return process.stdout.isTTY ? 'pretty' : 'json';
}

function demoNumbers(): string {
  return Object.entries(DEMO_NOTES)
    .map(([number, note], i) => `${i === 0 ? '  Demo numbers ' : '               '}${number.padEnd(16)}${note}`)
    .join('\n');
}

/** Where delivery events go, and how to watch them arrive. */
function eventsLine(stack: Stack): string {
  const bus = stack.env.EVENT_BUS_NAME;
  if (!stack.events) return `bus ${bus} at ${stack.env.AWS_ENDPOINT_URL_EVENTBRIDGE} (AWS_ENDPOINT_URL_EVENTBRIDGE)`;
  const file = stack.events.settings().eventsFile;
  return `${stack.events.url}  (EventBridge stand-in, bus ${bus}; watch: tail -f ${file}, or curl -s ${stack.events.url}/_eventbridge/events)`;
}

/** LOOKUP_AUTH=iam is for the deployed API: locally there is no IAM, so the API key stays. */
function authNote(env: NodeJS.ProcessEnv): string {
  if (env.LOOKUP_AUTH !== 'iam') return '';
  return '\nLOOKUP_AUTH=iam applies on AWS (SigV4, docs/edge.md); this local API still takes the API key below.';
}

function banner(stack: Stack, mode: LogMode, stage = 'dev'): string {
  const api = `${stack.httpUrl}/${stage}/v1/phone-numbers`;
  const tencent = stack.twin
    ? `${stack.twin.url}  (local twin; any other E.164 number has 0-12 receipts)\n${demoNumbers()}`
    : `${stack.env.TENCENT_SMS_ENDPOINT || DEFAULTS.TENCENT_SMS_ENDPOINT.default}  (real Tencent Cloud)`;
  const cliEnv = `TENCENT_SMS_ENDPOINT=${stack.env.TENCENT_SMS_ENDPOINT ?? ''} TENCENTCLOUD_SECRET_ID=${stack.env.TENCENTCLOUD_SECRET_ID ?? ''} TENCENTCLOUD_SECRET_KEY=${stack.twin ? stack.env.TENCENTCLOUD_SECRET_KEY : '…'} SMS_SDK_APP_ID=${stack.env.SMS_SDK_APP_ID ?? ''}`;
  const s3Env = `EXPORT_BUCKET=${stack.s3.bucket} AWS_ENDPOINT_URL_S3=${stack.s3.url} AWS_ACCESS_KEY_ID=${stack.s3.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${stack.s3.credentials.secretAccessKey} AWS_REGION=us-east-1`;
  const eventsEnv = stack.events
    ? ` EVENT_BUS_NAME=${stack.env.EVENT_BUS_NAME} AWS_ENDPOINT_URL_EVENTBRIDGE=${stack.events.url}`
    : '';
  return `
sms-status is running locally.${authNote(stack.env)}

  HTTP API     ${api}/{phoneNumber}/statuses
  API key      ${stack.apiKey}
  Callback     ${stack.callbackUrl}
               (Tencent's status callback; ${stack.twin ? `the twin pushes its receipts here at ${PUSH_RATE}/s, ` : ''}drained into S3 every ${DRAIN_EVERY_MS / 1000} s)
  Lambda API   ${stack.lambdaUrl}  (functions sms-status-${stage}-lookup, -export, -callback, -inbox)
  Tencent      ${tencent}
  S3           ${stack.s3.url}  (bucket ${stack.s3.bucket})
  Events       ${eventsLine(stack)}

Try:
  curl -s -H 'x-api-key: ${stack.apiKey}' '${api}/%2B${DEMO.slice(1)}/statuses'
  curl -s -H 'x-api-key: ${stack.apiKey}' '${api}/%2B${BUSY.slice(1)}/statuses?all=true&beginTime=${new Date(Date.now() - 6 * 3600_000).toISOString().slice(0, 19)}Z'
  echo '{"phoneNumber":"${DEMO}"}' | aws lambda invoke --endpoint-url ${stack.lambdaUrl} --region us-east-1 --no-sign-request --function-name sms-status-${stage}-lookup --payload fileb:///dev/stdin lookup.json && cat lookup.json
  ${cliEnv} npx sms-status lookup ${BUSY} --all --begin ${new Date(Date.now() - 6 * 3600_000).toISOString().slice(0, 19)}Z
  ${cliEnv} ${s3Env}${eventsEnv} npx sms-status export --phone-numbers ${DEMO},${BUSY}
  ${s3Env} npx sms-status report --format html --out report.html
  npx sms-status push-test '${stack.callbackUrl}'

${mode === 'quiet' ? "The functions' logs are not shown (--quiet or SMS_STATUS_QUIET)." : "The functions' logs follow (masked as in production; POWERTOOLS_LOG_LEVEL=DEBUG for more, --quiet for none)."}
Ctrl-C stops everything.
`;
}

async function main(): Promise<void> {
  const mode = logMode(process.argv.slice(2), process.env);
  process.stderr.write('Starting the Tencent twin, the local S3 server and serverless-offline…\n');
  const stack = await startStack({
    ports: ports(process.env),
    env: process.env,
    onLine: functionLogWriter(mode),
    throttle: true,
  });
  const drain = startInboxDrain(stack.lambdaUrl, DRAIN_EVERY_MS);
  // The twin plays Tencent's callback too, unless TWIN_PUSH_URL already sent it somewhere else.
  if (stack.twin && !stack.twin.lastPush()) stack.twin.push({ url: stack.callbackUrl, rate: PUSH_RATE });
  process.stdout.write(banner(stack, mode));
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nStopping…\n');
    await drain.stop();
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

await main().catch((error: unknown) => {
  process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
