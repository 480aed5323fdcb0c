/**
 * `npx tsx bench/diagnose-claim.ts [17|15]`: where a Feyxa drain's claim and completion
 * spend their time on one PostgreSQL tier. Emits the drain's backlog (BENCH_EVENTS, 20000),
 * lets one dispatcher drain half of it (so that the tables carry what a drain leaves
 * behind), then runs one claim_events (200) and its complete_attempts in a transaction
 * that is rolled back, under auto_explain (ANALYZE, BUFFERS, nested statements): the plan
 * of every statement inside the functions, printed with its timing.
 */
import postgres from "postgres";
import { feyxa, feyxaBacklog } from "./systems/feyxa.ts";
import { BENCH_HANDLERS } from "./noop-handlers.ts";
import { stopAll } from "./support/child.ts";
import { startBenchServer, type Tier } from "./support/server.ts";
import { waitUntil } from "./support/timing.ts";

const tier = (process.argv[2] ?? "17") as Tier;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const server = await startBenchServer(tier);
const db = await feyxaBacklog(server, EVENTS);
try {
  const workers = await feyxa.startWorkers(db.url, 1);
  await waitUntil(async () => (await db.sql`select count(*)::int as n from feyxa.event_queue`)[0].n <= EVENTS / 2, 120_000, 10);
  await stopAll(workers);
  const notes: string[] = [];
  const admin = postgres(db.superuserUrl, { max: 1, onnotice: (n) => notes.push(String(n.message)) });
  await admin.begin(async (tx) => {
    await tx.unsafe(`load 'auto_explain'; set local auto_explain.log_min_duration = 0; set local auto_explain.log_analyze = on;
      set local auto_explain.log_buffers = on; set local auto_explain.log_nested_statements = on; set local auto_explain.log_timing = on;
      set local client_min_messages = log`);
    const claimed = await tx<{ id: string; attempt: number }[]>`select id, attempt from feyxa.claim_events('diagnose', 200, '30 seconds')`;
    notes.push(`---- claimed ${claimed.length}; now complete_attempts`);
    const results = claimed.map((e) => ({ event_id: e.id, attempt: e.attempt, handlers: BENCH_HANDLERS.map((h) => ({ handler_name: h, status: "success", duration_ms: 0 })) }));
    await tx`select count(*) from feyxa.complete_attempts('diagnose', ${tx.json(results)})`;
    await tx.unsafe("rollback"); // nothing kept
  }).catch((e) => { if (!/rollback|transaction/i.test(String(e))) throw e; });
  await admin.end();
  console.log(`${server.description}: claim + completion of 200 events, ${EVENTS / 2} of ${EVENTS} drained before`);
  for (const n of notes) console.log(n.replace(/\n\s*\n/g, "\n"));
} finally {
  await db.drop();
  await server.stop();
}
