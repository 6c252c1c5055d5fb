// The export's contracts: what a run is given (settings, deps), what it keeps (plan, pending windows)
// and what it answers (totals, summary). Imports nothing of lib/export but the store port, so every
// module of the export can import it without a cycle.

import type { ExportConfig, TencentConfig } from '#lib/config.ts';
import type { PacedClient } from '#lib/connect.ts';
import type { ErrorName } from '#lib/errors.ts';
import type { EventsOut } from '#lib/events/deliver.ts';
import type { ListingStore } from '#lib/lake/store.ts';
import type { RunTotals } from './totals.ts';

export interface Window {
  beginTime: number;
  endTime: number;
}

/** The window rule's settings (documented on ExportConfig); the reconciliation sweep re-pulls 72 h when unset. */
export type WindowSettings = Pick<ExportConfig, 'latenessSeconds' | 'initialLookbackSeconds'> &
  Partial<Pick<ExportConfig, 'reconcileSeconds'>>;

/** The numbers of a request that names none: the configured list and manifest. */
export type NumberDefaults = Pick<ExportConfig, 'phoneNumbers' | 'manifest'>;

/**
 * What a run needs of the configuration (fields documented on ExportConfig), with the window rule's
 * and the default numbers' settings grouped; exportSettings() in from-config.ts maps one to the other.
 */
export interface ExportSettings extends Pick<
  ExportConfig,
  | 'bucket'
  | 'prefix'
  | 'concurrency'
  | 'groupConcurrency'
  | 'chunkSize'
  | 'reserveMs'
  | 'manifestMaxBytes'
  | 'stuckAfterRuns'
> {
  sdkAppId: TencentConfig['sdkAppId'];
  window: WindowSettings;
  defaults: NumberDefaults;
}

export interface ManifestProblem {
  line: number;
  reason: string;
}

/** What a summary says of the numbers, without the numbers: small enough to travel in a workflow plan. */
export interface NumberReport {
  total: number;
  problems: ManifestProblem[];
  problemCount: number;
  duplicates: number;
}

export interface ExportProgressEvent {
  numbersDone: number;
  numbersTotal: number;
  records: number;
}

export interface ExportDeps {
  client: PacedClient;
  /** Lists a committed run's leftovers to clear them (runs/<runId>/). */
  store: ListingStore;
  /** Milliseconds since epoch. */
  now: () => number;
  /** Time left for this invocation (Lambda's getRemainingTimeInMillis). */
  remainingMs: () => number;
  onProgress?: (event: ExportProgressEvent) => void;
  /** Delivery events: merges keep theirs in the outbox and the run sends them (none when off). */
  events?: EventsOut;
  /** Told of the receipts each merge made new to the lake, by status and country (the delivery metrics). */
  onNewReceipts?: (tally: Record<string, number>) => void;
}

export interface Failure {
  phoneNumber: string;
  /** rejected: Tencent refused the number (never retried); transient: still failing after retries. */
  kind: 'rejected' | 'transient';
  /** The error's taxonomy name. */
  name: ErrorName;
  code: string;
  message: string;
  requestId?: string;
}

/** A window of one number that is still owed: pulled again by every run until done or past Tencent's 7 days. */
export interface OwedWindow extends Window {
  phoneNumber: string;
  /** Runs that tried and failed to complete it. */
  runs: number;
  /**
   * Why it is owed: a Tencent code (still failing after the retries), or one of ours (OWED in owed.ts).
   */
  reason: string;
  /** The run that wrote this entry: a commit replaces exactly the entries its run consumed. */
  runId: string;
}

/**
 * A rebuilt day object (the lake's ledger) whose day this run pulls again: `lost` when part of it aged past Tencent's 7
 * days.
 */
export interface RebuildOwed {
  key: string;
  group: number;
  foundAt: string;
  lost: boolean;
}

export interface RunSummary extends RunTotals {
  runId: string;
  jobId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  window: Window;
  /**
   * What aged past Tencent's 7 days before the run began; counted in retentionGapSeconds and gapCount for every number.
   */
  agedOut?: Window;
  numbersTotal: number;
  /** The run is over (committed); false while invocations to come will resume it. */
  finished: boolean;
  /** True once every number of the window is exported (or refused by Tencent) and nothing is owed or lost. */
  complete: boolean;
  checkpointAdvanced: boolean;
  /**
   * Delivery events still waiting in the outbox when the run committed (any writer's): the next run or drain sends
   * them.
   */
  eventsOwed?: number;
  /**
   * How far behind the lake is, in seconds from the end of the window the job's checkpoint has reached
   * to when this summary was made. A scheduled job reads its checkpoint (one with none yet counts from
   * the beginning of its first window); any other run (an explicit window, the reconciliation sweep)
   * counts from its own window's end. Every run that cannot advance the checkpoint reports it grown.
   */
  checkpointAgeSeconds: number;
  manifestProblems: ManifestProblem[];
  manifestProblemCount: number;
  duplicateNumbers: number;
}

/**
 * A run, fixed when it starts: its window, and where its frozen number lists lie. Small and bounded,
 * so it travels as Step Functions state: no numbers in it.
 */
export interface Plan {
  jobId: string;
  runId: string;
  startedAt: string;
  window: Window;
  /** What aged past Tencent's 7 days between the job's checkpoint and this run (see window.ts agedOut). */
  agedOut?: Window;
  /** Scheduled runs advance the job's checkpoint; runs of an explicit window do not. */
  scheduled: boolean;
  numbers: NumberReport;
  /** Groups with work: numbers of the list, or windows still owed. */
  groups: number[];
  shards: number[];
  /** Where the shard list lies for a Distributed Map's ItemReader. */
  shardList: { bucket: string; key: string };
  /** Rebuilt day objects whose day this run pulls again (the lake's ledger, owed-rebuilds.ts). */
  rebuilds: RebuildOwed[];
  /** Plain runs: the invocations it took so far (a workflow counts its shards' instead). */
  invocations?: number;
}
