/**
 * Ours with flow control on for every event (issue 14's second speed bound): the bench's
 * event type configured `ordered` (each aggregate's events one at a time, in emit order)
 * and tenant fairness on (no cap). The backlog spreads over BENCH_FLOW_AGGREGATES (2,000)
 * aggregates, event i going to aggregate i mod 2,000 (so 20,000 events make lines of 10,
 * interleaved), and over BENCH_FLOW_TENANTS (50) tenants (aggregate mod 50). Drain only;
 * its check also proves the order: no event of a line was claimed before the one ahead of it was done.
 */
import { configureEventType, configureTenantFairness, type NewEvent } from "../../src/bus/index.ts";
import { BENCH_EVENT } from "../noop-handlers.ts";
import { busProducer, feyxa } from "./feyxa.ts";
import type { BenchSystem } from "./system.ts";

const AGGREGATES = Number(process.env.BENCH_FLOW_AGGREGATES ?? 2_000);
const TENANTS = Number(process.env.BENCH_FLOW_TENANTS ?? 50);

const uuids = (n: number) => Array.from({ length: n }, () => crypto.randomUUID());

/** Both on (the row issue 14 bounds), or one of the two (BENCH_FLOW_PARTS=1: where the cost is). */
function flowSystem(name: string, ordered: boolean, fair: boolean): BenchSystem {
  return {
    ...feyxa,
    name,
    drainOnly: true,
    tuning: `as feyxa, events over ${AGGREGATES} aggregates and ${TENANTS} tenants; ${ordered ? `${BENCH_EVENT} configured ordered (a line per aggregate)` : "unordered"}; ${fair ? "tenant fairness on (no in-flight cap)" : "fairness off"}`,

    async setup(server) {
      const db = await feyxa.setup(server);
      if (ordered) await configureEventType(db.sql, BENCH_EVENT, { ordered: true });
      if (fair) await configureTenantFairness(db.sql, { enabled: true, maxInFlight: null });
      // Statistics first: on a never-analyzed database, emit_event_report's insert is costed
      // at ~440,000 (event_bus_settings guessed at 280 rows, its CTE cross-joined three times),
      // over jit_above_cost, and Debian's PostgreSQL 15 JIT-compiles it on every ordered emit:
      // about 19 ms each, 52 events/s (docs/performance.md). The drain measured is the same.
      await db.sql`analyze`;
      return db;
    },

    producer(url, connections) {
      const aggregates = uuids(AGGREGATES);
      const tenants = uuids(TENANTS);
      return busProducer(url, connections, (i: number): NewEvent => ({
        event_type: BENCH_EVENT, aggregate_type: "bench", aggregate_id: aggregates[i % AGGREGATES],
        tenant_id: tenants[(i % AGGREGATES) % TENANTS], payload: { i, t: Date.now() },
      }));
    },

    async verifiedRuns(db) {
      const runs = await feyxa.verifiedRuns(db);
      if (!ordered) return runs;
      const [row] = await db.sql<{ lines: number; unordered: number; early: number }[]>`
        with e as (
          select ordering_key, first_claimed_at,
                 lag(processed_at) over (partition by ordering_key order by ordering_seq) as ahead_done
          from feyxa.events_log)
        select count(distinct ordering_key)::int as lines,
               count(*) filter (where ordering_key is null)::int as unordered,
               count(*) filter (where first_claimed_at < ahead_done)::int as early
        from e`;
      if (row.unordered || row.early || row.lines === 0) throw new Error(`feyxa-flow: order not kept or not in use: ${JSON.stringify(row)}`);
      return runs;
    },
  };
}

export const feyxaFlow = flowSystem("feyxa-flow", true, true);
export const feyxaOrderedOnly = flowSystem("feyxa-ordered", true, false);
export const feyxaFairOnly = flowSystem("feyxa-fair", false, true);
