/**
 * `npx tsx bench/diagnose-monitor.ts [17|15]`: where the monitor's reads at volume spend their
 * time on one PostgreSQL tier. Seeds the log the monitor part of the bench times
 * (BENCH_MONITOR_EVENTS, 1,000,000), then for each path (BENCH_MONITOR_PATHS: parts of the
 * paths to keep, default the slow ones, "waiting,stats") prints five timed calls, and the
 * plans of one more call under auto_explain (ANALYZE, BUFFERS, nested statements): those of
 * 10 ms or more in full, with what JIT compiling cost. That call comes after
 * BENCH_MONITOR_EXPLAIN_AFTER (6) calls on its connection, because postgres.js prepares
 * statements and from the sixth run PostgreSQL may choose a generic plan, which a warm pool
 * runs; 0 shows the first plan. BENCH_MONITOR_JIT=off sets the database's jit off first (for
 * the timed calls: the explained ones' connection is open already and keeps it).
 */
import postgres from "postgres";
import { testBus } from "../tests/support/bus.ts";
import { MONITOR_PATHS, monitorClient, monitorGateway, person, seedVolume, store } from "../tests/support/monitor.ts";
import { startBenchServer, type Tier } from "./support/server.ts";

const tier = (process.argv[2] ?? "17") as Tier;
const EVENTS = Number(process.env.BENCH_MONITOR_EVENTS ?? 1_000_000);
const KEEP = (process.env.BENCH_MONITOR_PATHS ?? "waiting,stats").split(",");
const EXPLAIN_AFTER = Number(process.env.BENCH_MONITOR_EXPLAIN_AFTER ?? 6);
const FULL_PLAN_MS = 10;

const server = await startBenchServer(tier);
const db = await server.feyxaDatabase();
const plans: string[] = [];
// LOAD 'auto_explain' takes a superuser; the calls still run as the admin, through RLS (asCaller).
const explained = postgres(db.superuserUrl, { max: 1, onnotice: (notice) => plans.push(String(notice.message)) });
try {
  const admin = await person(db.sql, "ops@example.com", { admin: true });
  const root = await seedVolume(db.sql, EVENTS, await store(db.sql, "Volume store"));
  if (process.env.BENCH_MONITOR_JIT === "off") await explained.unsafe(`alter database ${db.url.split("/").pop()!.split("?")[0]} set jit = off`);
  await explained.unsafe(`load 'auto_explain'`);
  await explained`select set_config('auto_explain.log_min_duration', '0', false), set_config('auto_explain.log_level', 'notice', false),
                         set_config('auto_explain.log_analyze', 'on', false), set_config('auto_explain.log_buffers', 'on', false),
                         set_config('auto_explain.log_nested_statements', 'on', false), set_config('client_min_messages', 'notice', false)`;
  // A pool opened after the seed (and after jit = off), as the monitor's would be.
  const pool = postgres(db.url, { max: 4, onnotice: () => {} });
  const [{ jit }] = await pool<{ jit: string }[]>`select current_setting('jit') || case when pg_jit_available() then '' else ' (not available)' end as jit`;
  const plain = monitorClient(monitorGateway(testBus(pool, [])));
  const watched = monitorClient(monitorGateway(testBus(explained, [])));
  const call = async (client: typeof plain, path: string) => {
    const started = performance.now();
    await (await client.get(admin, path)).text();
    return Math.round(performance.now() - started);
  };
  console.log(`${server.description}, ${EVENTS.toLocaleString("en-US")} events, jit ${jit}`);
  for (const path of MONITOR_PATHS(root.id).filter((p) => KEEP.some((part) => p.includes(part)))) {
    const times: number[] = [];
    for (let i = 0; i < 8; i++) times.push(await call(plain, path));
    for (let i = 0; i < EXPLAIN_AFTER; i++) await call(watched, path);
    plans.length = 0;
    const ms = await call(watched, path);
    const duration = (plan: string) => Number(/duration: ([\d.]+) ms/.exec(plan)?.[1] ?? 0);
    const jitMs = plans.reduce((sum, plan) => sum + Number(/JIT:[\s\S]*Total ([\d.]+) ms/.exec(plan)?.[1] ?? 0), 0);
    console.log(`\n===== ${path.replace(root.id, "<root>")}: ${times.slice(3).join(", ")} ms (after 3 warm-ups); explained ${ms} ms, JIT ${Math.round(jitMs)} ms in ${plans.filter((p) => p.includes("JIT:")).length} statements`);
    for (const plan of plans.filter((p) => duration(p) >= FULL_PLAN_MS)) console.log(plan.replace(/\n\s*\n/g, "\n"));
  }
  await pool.end();
} finally {
  await explained.end();
  await db.drop();
  await server.stop();
}
