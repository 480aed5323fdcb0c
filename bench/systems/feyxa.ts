/**
 * Ours: emit_event / emit_events through Bus, and the dispatcher CLI (src/local/dispatcher.ts,
 * bundled to plain JavaScript: support/bundle.ts) as separate processes, each handler run leaving a row in event_handlers_log.
 */
import postgres from "postgres";
import { Bus, type NewEvent } from "../../src/bus/index.ts";
import { BENCH_EVENT, BENCH_HANDLERS } from "../noop-handlers.ts";
import { bundleDispatcher } from "../support/bundle.ts";
import { startWorker } from "../support/child.ts";
import type { BenchDatabase, BenchServer } from "../support/server.ts";
import { HANDLERS_PER_EVENT, type BenchSystem } from "./system.ts";

// Knobs for trying other settings (BENCH_FEYXA_BATCH_SIZE, BENCH_FEYXA_CONCURRENCY, and
// BENCH_FEYXA_SETUP_SQL: SQL run in each fresh database before the workload, e.g.
// "alter table events_log set (fillfactor = 90)"); the defaults are what the README reports.
const BATCH_SIZE = Number(process.env.BENCH_FEYXA_BATCH_SIZE ?? 200);
const CONCURRENCY = Number(process.env.BENCH_FEYXA_CONCURRENCY ?? 2);
const EMIT_EVENTS_MAX = 10_000;

const event = (i: number): NewEvent => ({
  event_type: BENCH_EVENT, aggregate_type: "bench", aggregate_id: crypto.randomUUID(), payload: { i, t: Date.now() },
});

/** A producer emitting through Bus: one emit_event per call, or emit_events of up to 10,000 in one transaction. */
export function busProducer(url: string, connections: number, event: (i: number) => NewEvent) {
  const sql = postgres(url, { max: connections, onnotice: () => {} });
  const bus = new Bus({ sql, handlers: [] });
  return Promise.resolve({
    emitOne: async (i: number) => void (await bus.emit(event(i))),
    // emit_events takes up to 10,000 events a call: a larger backlog is several calls in one transaction.
    emitBatch: (from: number, count: number) => sql.begin(async (tx) => {
      for (let at = from; at < from + count; at += EMIT_EVENTS_MAX) {
        await bus.emitMany(Array.from({ length: Math.min(EMIT_EVENTS_MAX, from + count - at) }, (_, k) => event(at + k)), tx);
      }
    }),
    close: () => sql.end({ timeout: 5 }),
  });
}

/**
 * Dispatcher CLI processes running the bench's handlers; traced: with an OpenTelemetry SDK
 * registered (bench/traced-handlers.ts), recording the share `traced.sample` of traces.
 */
export function startDispatchers(traced?: { sample: number }): BenchSystem["startWorkers"] {
  return async (url, processes) => {
    const bundle = await bundleDispatcher();
    const env = {
      DATABASE_URL: url,
      FEYXA_HANDLERS: traced ? bundle.tracedHandlers : bundle.handlers,
      ...(traced ? { BENCH_TRACE_SAMPLE: String(traced.sample) } : {}),
      FEYXA_BATCH_SIZE: process.env.BENCH_FEYXA_BATCH_SIZE ?? String(BATCH_SIZE),
      FEYXA_CONCURRENCY: process.env.BENCH_FEYXA_CONCURRENCY ?? String(CONCURRENCY),
    };
    return await Promise.all(Array.from({ length: processes }, () => startWorker(bundle.dispatcher, env)));
  };
}

/** A fresh Feyxa database with a backlog of `events` bench events, emitted in one transaction and ANALYZEd (the diagnostics' start). */
export async function feyxaBacklog(server: BenchServer, events: number): Promise<BenchDatabase> {
  const db = await feyxa.setup(server);
  const producer = await feyxa.producer(db.url, 1);
  await producer.emitBatch(0, events);
  await producer.close();
  await db.sql`analyze`;
  return db;
}

export const feyxa: BenchSystem = {
  name: "feyxa",
  tuning: `dispatcher CLI (bundled by esbuild, plain node) per process: batchSize ${BATCH_SIZE}, concurrency ${CONCURRENCY} (up to ${BATCH_SIZE * CONCURRENCY} events in flight), LISTEN + 2 s poll, postgres.js prepared statements`,

  async setup(server) {
    const db = await server.feyxaDatabase();
    for (const name of BENCH_HANDLERS) {
      await db.sql`insert into feyxa.event_subscriptions (event_pattern, handler_name) values (${BENCH_EVENT}, ${name})`;
    }
    if (process.env.BENCH_FEYXA_SETUP_SQL) await db.sql.unsafe(process.env.BENCH_FEYXA_SETUP_SQL);
    return db;
  },

  producer: (url, connections) => busProducer(url, connections, event),

  startWorkers: startDispatchers(),

  async drained({ sql }) {
    // Every bench event completes, and a completed event leaves event_queue.
    const [row] = await sql`select not exists (select 1 from feyxa.event_queue) as done`;
    return row.done;
  },

  async firstStartedAt({ sql }) {
    const [row] = await sql`select extract(epoch from min(first_claimed_at)) * 1000 as at from feyxa.events_log`;
    return Number(row.at);
  },

  async lastDoneAt({ sql }) {
    const [row] = await sql`select extract(epoch from max(processed_at)) * 1000 as at from feyxa.events_log`;
    return Number(row.at);
  },

  async verifiedRuns({ sql }) {
    const [row] = await sql<{ rows: number; runs: number; retried: number; unfinished: number }[]>`
      select count(*)::int as rows, count(distinct (event_id, handler_name))::int as runs,
             count(*) filter (where attempt > 1 or status <> 'success')::int as retried,
             (select count(*)::int from feyxa.events_log where status <> 'completed') as unfinished
      from feyxa.event_handlers_log`;
    if (row.rows !== row.runs || row.retried || row.unfinished) throw new Error(`feyxa: a handler ran twice or failed: ${JSON.stringify(row)}`);
    return row.runs;
  },

  async latencies({ sql }, sinceMs) {
    const rows = await sql<{ ms: number }[]>`
      select extract(epoch from processed_at) * 1000 - (payload ->> 't')::float8 as ms from feyxa.events_log
      where status = 'completed' and (payload ->> 't')::float8 >= ${sinceMs}`;
    const [{ n }] = await sql`
      select count(*)::int as n from feyxa.event_handlers_log h join feyxa.events_log e on e.id = h.event_id
      where (e.payload ->> 't')::float8 >= ${sinceMs}`;
    if (n !== rows.length * HANDLERS_PER_EVENT) throw new Error(`feyxa: ${n} handler rows for ${rows.length} events`);
    return rows.map((r) => Number(r.ms));
  },
};
