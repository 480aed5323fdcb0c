/**
 * The monitor at volume: the reads an operator makes first (the list and its common filters,
 * the stats over each window, an order's story; MONITOR_PATHS), over HTTP through the
 * gateway as an admin, on a log seeded as a busy day leaves it (seedVolume, shared with the
 * volume test, which checks the plans; the time is held here, target 300 ms a call).
 * Each path is called once to warm up, then CALLS times in rounds that visit every path in
 * turn, so that a slow spell of the machine lands on all paths rather than on one.
 */
import { loadavg } from "node:os";
import { testBus } from "../../tests/support/bus.ts";
import { MONITOR_PATHS, monitorClient, monitorGateway, person, seedVolume, store } from "../../tests/support/monitor.ts";
import { median } from "../support/report.ts";
import type { BenchServer } from "../support/server.ts";
import { percentile } from "../support/timing.ts";

/** The longest an operator should wait for one of these reads (p95 of the timed calls). */
const TARGET_MS = 300;
const CALLS = 20;

export interface MonitorPathResult {
  /** The path as called, the story's root id replaced by `<root>`. */
  path: string;
  /** Milliseconds of each timed call, in order, from the request to the body read. */
  ms: number[];
  median: number;
  p95: number;
  max: number;
}

export interface MonitorResult {
  events: number;
  /** Seeding, vacuum and the rollups' fold: not part of any call's time. */
  seedSeconds: number;
  calls: number;
  /**
   * The machine's 1-minute load average before the warm-up and after the last call (the
   * calls themselves add about 1): on a shared machine, how much else ran meanwhile.
   */
  load: [number, number];
  /** The bound on each path's p95. */
  targetMs: number;
  paths: MonitorPathResult[];
}

export async function monitorReads(server: BenchServer, events: number, log: (message: string) => void): Promise<MonitorResult> {
  const db = await server.feyxaDatabase();
  try {
    const seeding = performance.now();
    const admin = await person(db.sql, "ops@example.com", { admin: true });
    const root = await seedVolume(db.sql, events, await store(db.sql, "Volume store"));
    const seedSeconds = (performance.now() - seeding) / 1000;
    log(`  seeded ${events.toLocaleString("en-US")} events in ${seedSeconds.toFixed(1)} s`);
    const client = monitorClient(monitorGateway(testBus(db.sql, [])));
    const paths = MONITOR_PATHS(root.id);
    const call = async (path: string) => {
      const started = performance.now();
      const response = await client.get(admin, path);
      await response.text(); // the answer is only given once its body is sent
      if (response.status !== 200) throw new Error(`monitor ${path}: ${response.status}`);
      return performance.now() - started;
    };
    const loadBefore = loadavg()[0];
    for (const path of paths) await call(path);
    const ms: number[][] = paths.map(() => []);
    for (let round = 0; round < CALLS; round++) {
      for (const [i, path] of paths.entries()) ms[i].push(await call(path));
    }
    return {
      events,
      seedSeconds,
      calls: CALLS,
      load: [loadBefore, loadavg()[0]],
      targetMs: TARGET_MS,
      paths: paths.map((path, i) => ({
        path: path.replace(root.id, "<root>"),
        ms: ms[i],
        median: median(ms[i]),
        p95: percentile(ms[i], 95),
        max: Math.max(...ms[i]),
      })),
    };
  } finally {
    await db.drop();
  }
}
