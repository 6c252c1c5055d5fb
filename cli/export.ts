import { loadEventsConfig, loadExportConfig, loadTencentConfig } from '#lib/config.ts';
import { eventsOut } from '#lib/events/deliver.ts';
import { exportSettings } from '#lib/export/from-config.ts';
import { requestOf } from '#lib/export/request.ts';
import { runExport } from '#lib/export/run.ts';
import type { ExportProgressEvent } from '#lib/export/types.ts';
import { s3Store } from '#lib/lake/s3/s3-store.ts';
import { EXPORT_RETRY } from '#lib/pace/retry.ts';
import { connect } from '#lib/connect.ts';

/** A bar on a terminal, a plain line at most every two seconds otherwise; both on stderr. */
function progressReporter(): (event: ExportProgressEvent) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return ({ numbersDone, numbersTotal, records }) => {
    const share = numbersTotal === 0 ? 1 : numbersDone / numbersTotal;
    if (tty) {
      const width = 30;
      const filled = Math.round(share * width);
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${numbersDone}/${numbersTotal} numbers, ${records} records`,
      );
      if (numbersDone >= numbersTotal) process.stderr.write('\n');
    } else if (Date.now() - last >= 2000 || numbersDone >= numbersTotal) {
      last = Date.now();
      process.stderr.write(`export: ${numbersDone}/${numbersTotal} numbers, ${records} records\n`);
    }
  };
}

export async function runExportCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  const tencent = loadTencentConfig(process.env);
  const config = loadExportConfig(process.env);
  const phoneNumbers =
    typeof values['phone-numbers'] === 'string' ? values['phone-numbers'].split(',').map((n) => n.trim()) : undefined;
  const store = s3Store({ local: config.localS3 });
  // With EVENT_BUS_NAME set, the CLI's merges publish delivery events as the Lambda's do.
  const events = eventsOut(
    loadEventsConfig(process.env)?.busName,
    { store, bucket: config.bucket, prefix: config.prefix },
    'pull',
  );
  const { summary } = await runExport(
    {
      client: connect(tencent, { retry: EXPORT_RETRY, clampToRetention: true }),
      store,
      events,
      now: Date.now,
      remainingMs: () => Number.POSITIVE_INFINITY,
      onProgress: progressReporter(),
    },
    exportSettings(config, tencent),
    // The same checks as an invoked export: a sweep takes no window of its own, for one.
    requestOf({
      phoneNumbers,
      manifest: values.manifest,
      beginTime: values.begin,
      endTime: values.end,
      reconcile: values.reconcile === true ? true : undefined,
    }),
  );
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return summary.complete ? 0 : 1;
}
