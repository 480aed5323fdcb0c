/**
 * What the workloads need from a system under test: ours or a peer, each driven through
 * its public API. Every system fans one event out to four no-op handlers, and records each
 * handler run durably in its own way (ours: a row of event_handlers_log; pg-boss: a job
 * row in state completed; graphile-worker: the job row's deletion; pgmq: an archived message).
 */
import type { BenchDatabase, BenchServer } from "../support/server.ts";
import type { WorkerProcess } from "../support/child.ts";

export const HANDLERS_PER_EVENT = 4;

export interface Producer {
  /** Emits one event (four handler runs) as an application would, one call. */
  emitOne(i: number): Promise<void>;
  /** Emits `count` events in one call (one transaction), the system's batched enqueue. */
  emitBatch(from: number, count: number): Promise<void>;
  close(): Promise<void>;
}

export interface BenchSystem {
  name: string;
  /** Exactly how it is tuned, for the table's notes, the JSON and the README. */
  tuning: string;
  /** A variant measured in the drain only (its emit and latency are its sibling's). */
  drainOnly?: boolean;
  /** Work the drain runs beside the workers from their start to the backlog's end (a metrics scraper); returns its stop. */
  alongside?(db: BenchDatabase): () => Promise<void>;
  /** A fresh database with the system installed and four handlers subscribed to one event. */
  setup(server: BenchServer): Promise<BenchDatabase>;
  /** A producer using up to `connections` connections. */
  producer(url: string, connections: number): Promise<Producer>;
  /** `processes` worker processes, ready to work (some systems consume differently for the latency run). */
  startWorkers(url: string, processes: number, purpose?: "drain" | "latency"): Promise<WorkerProcess[]>;
  /** True once no handler run is left to do. */
  drained(db: BenchDatabase): Promise<boolean>;
  /** When the first handler run of a drain started (epoch ms). */
  firstStartedAt(db: BenchDatabase, workers: WorkerProcess[]): Promise<number>;
  /** When the last handler run was recorded (epoch ms, database clock), if the system keeps it. */
  lastDoneAt(db: BenchDatabase): Promise<number | undefined>;
  /** Handler runs durably recorded as done; throws if any ran twice. */
  verifiedRuns(db: BenchDatabase): Promise<number>;
  /** Called before the latency run, where a system needs a probe to see completion times. */
  prepareLatencyProbe?(db: BenchDatabase): Promise<void>;
  /**
   * Per event emitted at or after `sinceMs` (Date.now() in its payload: a warm-up's events
   * are left out), ms from the producer's call to its fourth run recorded.
   */
  latencies(db: BenchDatabase, sinceMs: number): Promise<number[]>;
}
