import type { ReportEngine } from './engine.ts';
import { windowObjects, type LakeStore } from './lake-objects.ts';
import { assembleReport, type DeliveryReport } from './report.ts';
import { queryParameters, SECTIONS, type Section } from './sections.ts';
import type { ReportWindow } from './window.ts';

export interface ReportDeps {
  store: LakeStore;
  bucket: string;
  prefix: string;
  engine: ReportEngine;
  /** Each section's SQL: the text of queries/<file>.sql. */
  queries: Readonly<Record<Section, string>>;
}

/** The delivery report of a window: its day objects, each section's query over them, assembled. */
export async function deliveryReport(deps: ReportDeps, window: ReportWindow): Promise<DeliveryReport> {
  const objects = await windowObjects(deps.store, deps.bucket, deps.prefix, window);
  const results = await deps.engine.run(
    objects,
    SECTIONS.map((section) => deps.queries[section]),
    queryParameters(window),
  );
  const rows = Object.fromEntries(SECTIONS.map((section, i) => [section, results[i] ?? []])) as Record<
    Section,
    (typeof results)[number]
  >;
  return assembleReport(window, rows);
}
