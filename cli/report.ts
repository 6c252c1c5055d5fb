import { writeFile } from 'node:fs/promises';
import { loadReportConfig } from '#lib/config.ts';
import { InvalidInput } from '#lib/errors.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { deliveryReport } from '#lib/report/build.ts';
import type { DeliveryReport } from '#lib/report/report.ts';
import { parseReportWindow } from '#lib/report/window.ts';
import { CliError } from './cli-error.ts';
import { duckDbEngine } from './report/duckdb-engine.ts';
import { htmlReport } from './report/html.ts';
import { reportFailure } from './report/lake-errors.ts';
import { reportQueries } from './report/queries.ts';
import { textReport } from './report/text.ts';

const FORMATS = {
  json: (report: DeliveryReport) => `${JSON.stringify(report, null, 2)}\n`,
  text: textReport,
  html: htmlReport,
} as const;
type Format = keyof typeof FORMATS;

function parseFormat(value: string | boolean | undefined): Format {
  if (value === undefined) return 'json';
  if (typeof value === 'string' && Object.hasOwn(FORMATS, value)) return value as Format;
  throw new InvalidInput(`format must be one of ${Object.keys(FORMATS).join(', ')}`, { field: 'format' });
}

async function output(text: string, out: string | boolean | undefined): Promise<void> {
  if (typeof out !== 'string' || out === '') {
    process.stdout.write(text);
    return;
  }
  try {
    await writeFile(out, text);
  } catch (error) {
    throw new CliError(
      `cannot write --out ${out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** `sms-status report`: the lake's delivery health over a window, as JSON, a terminal table or a page. */
export async function runReportCommand(
  values: Record<string, string | boolean | undefined>,
  positionals: string[],
): Promise<number> {
  if (positionals.length > 0)
    throw new InvalidInput(`report takes no arguments, only options (got '${positionals[0]?.slice(0, 32)}')`, {
      field: 'report',
    });
  // Input first, then configuration: a typo costs no S3 request.
  const format = parseFormat(values.format);
  const window = parseReportWindow({ begin: values.begin, end: values.end }, Math.floor(Date.now() / 1000));
  const config = loadReportConfig(process.env);
  const place = {
    bucket: config.bucket,
    prefix: config.prefix,
    endpoint: process.env.AWS_ENDPOINT_URL_S3?.trim() || undefined,
  };
  const report = await reportQueries()
    .then((queries) =>
      deliveryReport(
        {
          store: s3Store({ local: config.localS3 }),
          bucket: config.bucket,
          prefix: config.prefix,
          engine: duckDbEngine(),
          queries,
        },
        window,
      ),
    )
    .catch((error: unknown) => {
      throw reportFailure(error, place);
    });
  await output(FORMATS[format](report), values.out);
  return 0;
}
