import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorReport } from './error-report.ts';

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

type Options = Command['options'];
type Run = Command['run'];
/**
 * A command's module, loaded when it runs: each pulls in its own world (the AWS SDK, the Tencent
 * client, DuckDB's native library), and a command that loaded every other one's started ~0.6 s slower.
 */
const lazy =
  <M>(load: () => Promise<M>, pick: (module: M) => Run): Run =>
  async (values, positionals) =>
    pick(await load())(values, positionals);
const strings = (...names: string[]): Options => Object.fromEntries(names.map((name) => [name, { type: 'string' }]));
const booleans = (...names: string[]): Options => Object.fromEntries(names.map((name) => [name, { type: 'boolean' }]));

const COMMANDS: Record<string, Command> = {
  lookup: {
    summary: 'delivery statuses of one number, as JSON on stdout',
    usage: 'sms-status lookup <phoneNumber> [--begin T] [--end T] [--limit N] [--all] [--serial-no S]',
    options: { ...strings('begin', 'end', 'limit', 'serial-no'), ...booleans('all') },
    run: lazy(
      () => import('./lookup.ts'),
      (m) => m.runLookup,
    ),
  },
  export: {
    summary: 'one export run to the configured bucket; prints the run summary',
    usage: 'sms-status export [--phone-numbers a,b,…] [--manifest s3://…] [--begin T] [--end T] [--reconcile]',
    options: { ...strings('phone-numbers', 'manifest', 'begin', 'end'), ...booleans('reconcile') },
    run: lazy(
      () => import('./export.ts'),
      (m) => m.runExportCommand,
    ),
  },
  'push-test': {
    summary: 'POSTs one sample receipt in Tencent\'s callback format to a receiver; exit 0 on {"result":0}',
    usage: 'sms-status push-test <url> [--phone-number +86…] [--utc-offset +08:00]',
    options: strings('phone-number', 'utc-offset'),
    run: lazy(
      () => import('./push-test.ts'),
      (m) => m.runPushTest,
    ),
  },
  report: {
    summary:
      'delivery health of the lake over [begin, end) (default: the last 7 days): JSON, a terminal table or an HTML page',
    usage: 'sms-status report [--begin T] [--end T] [--format text|json|html] [--out FILE]',
    options: strings('begin', 'end', 'format', 'out'),
    run: lazy(
      () => import('./report.ts'),
      (m) => m.runReportCommand,
    ),
  },
  twin: {
    summary: 'the local Tencent twin, in the foreground',
    usage:
      'sms-status twin [--port P] [--order shuffled|ascending|descending] [--push-url URL] [--push-rate N] [--push-batch N]',
    options: strings('port', 'order', 'push-url', 'push-rate', 'push-batch'),
    run: lazy(
      () => import('./twin.ts'),
      (m) => m.runTwin,
    ),
  },
};

const HELP = `sms-status — Tencent Cloud SMS delivery statuses

Usage:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}\n      ${c.summary}`)
  .join('\n')}

Times are unix seconds or ISO-8601 (UTC unless an offset is given).
Configuration comes from the environment: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY,
SMS_SDK_APP_ID, TENCENT_SMS_ENDPOINT, TENCENTCLOUD_REGION, TENCENT_RPS_BUDGET; for exports
EXPORT_BUCKET, EXPORT_PREFIX and AWS_ENDPOINT_URL_S3 (see README.md), which report reads too.
stdout carries only the result (JSON; report's text or HTML when asked); errors and logs go to stderr,
one line each (--debug: with the stack).
Exit codes: 0 done; 1 a Tencent or input error (its JSON error body on stderr), or an export not
complete; 2 a flag, a variable, the bucket, an endpoint, the credentials or the lake are wrong (named on stderr).
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`sms-status: unknown command '${name}'\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: { ...command.options, help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`Usage: ${command.usage}\n  ${command.summary}\n`);
    return 0;
  }
  return command.run(values, positionals);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const { line, exitCode } = errorReport(error, process.env, process.argv.includes('--debug'));
  process.stderr.write(`${line}\n`);
  process.exitCode = exitCode;
}
