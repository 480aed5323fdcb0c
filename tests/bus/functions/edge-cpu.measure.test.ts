/**
 * How much CPU (this process's, as Node's process.cpuUsage() counts it: the database's
 * own work is not ours) a claim + run + complete batch of marketplace events costs: the
 * figures behind the work bounds of src/bus/functions/drain.ts. Not part of the suite:
 * `FEYXA_MEASURE_CPU=1 npx vitest run tests/bus/functions/edge-cpu.measure.test.ts`.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { createRetryFailedEvents } from "../../../src/bus/functions/retry-failed-events.ts";
import { asServer, testAuth } from "../../support/auth.ts";
import { useDatabase } from "../../support/database.ts";
import { testBus } from "../../support/bus.ts";
import { checkout, openShop } from "../../support/marketplace.ts";

const measure = !!process.env.FEYXA_MEASURE_CPU;

describe.skipIf(!measure)("CPU of a drain batch with the marketplace's handlers", async () => {
  const { sql, url } = measure ? await useDatabase() : ({} as Awaited<ReturnType<typeof useDatabase>>);

  it("prints ms of CPU per batch and per event for several batch sizes", async () => {
    const shop = await openShop(sql, [{ name: "Basket", price: 12_000, stock: 1_000_000 }, { name: "Mug", price: 3_500, stock: 1_000_000 }]);
    const sizes = [1, 10, 25, 50, 100];
    const rounds = 4;
    const total = sizes.reduce((a, n) => a + n * rounds, 0) + 50;
    for (let i = 0; i < total; i++) await checkout(sql, shop, { Basket: 1, Mug: 2 }, { attribution: { utm_source: "ads" } });
    // A fresh bus, as a cold isolate would have: the first batch pays for loading and JIT.
    const bus = testBus(sql, engineHandlers(), { subscriptionTtlMs: 60_000 });
    const cpuOf = async (n: number) => {
      const before = process.cpuUsage();
      const t0 = performance.now();
      const outcomes = await bus.drainOnce(n);
      const used = process.cpuUsage(before);
      return { events: outcomes.length, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - t0,
        runs: outcomes.reduce((a, o) => a + o.handlers.length, 0) };
    };
    const cold = await cpuOf(50);
    console.log(`cold first batch of ${cold.events} events (${cold.runs} handler runs): ${cold.cpuMs.toFixed(1)} ms CPU, ${cold.wallMs.toFixed(0)} ms wall`);
    for (const n of sizes) {
      const samples = [];
      for (let r = 0; r < rounds; r++) samples.push(await cpuOf(n));
      const cpu = samples.map((s) => s.cpuMs).sort((a, b) => a - b);
      const runs = samples[0].runs / samples[0].events;
      console.log(`batch ${String(n).padStart(3)}: CPU median ${cpu[rounds >> 1].toFixed(1)} ms, max ${cpu.at(-1)!.toFixed(1)} ms` +
        ` = ${(cpu.at(-1)! / n).toFixed(2)} ms/event, ${(cpu.at(-1)! / (n * runs)).toFixed(3)} ms/handler run (${runs} runs/event);` +
        ` wall ${Math.max(...samples.map((s) => s.wallMs)).toFixed(0)} ms`);
    }
    expect(cold.events).toBe(50);
  }, 300_000);

  it("prints the CPU of whole retry-failed-events invocations with the default limits, cold and warm", async () => {
    const shop = await openShop(sql, [{ name: "Tea", price: 2_000, stock: 1_000_000 }]);
    const invocations = 5;
    for (let i = 0; i < invocations * 100; i++) await checkout(sql, shop, { Tea: 3 }, { attribution: { utm_source: "mail" } });
    const retry = asServer(createRetryFailedEvents(testBus(sql, engineHandlers(), { subscriptionTtlMs: 60_000 }), { auth: testAuth }));
    for (let i = 0; i < invocations; i++) {
      const before = process.cpuUsage();
      const t0 = performance.now();
      const summary = await (await retry(new Request("http://localhost/functions/v1/retry-failed-events", { method: "POST" }))).json();
      const used = process.cpuUsage(before);
      console.log(`invocation ${i + 1}${i === 0 ? " (cold bus)" : ""}: ${summary.claimed} events, ${summary.handler_runs} handler runs,` +
        ` stopped ${summary.stopped}: ${((used.user + used.system) / 1000).toFixed(0)} ms CPU, ${(performance.now() - t0).toFixed(0)} ms wall`);
    }
  }, 300_000);

  it("prints the same in a fresh Deno process (tests/bus/functions/edge-cpu.deno.ts), as an Edge isolate runs it", async () => {
    const shop = await openShop(sql, [{ name: "Jam", price: 1_500, stock: 1_000_000 }]);
    for (let i = 0; i < 500; i++) await checkout(sql, shop, { Jam: 2 }, { attribution: { utm_source: "sms" } });
    const out = execFileSync("npx", ["deno", "run", "-A", "tests/bus/functions/edge-cpu.deno.ts", "5"], { env: { ...process.env, DATABASE_URL: url }, encoding: "utf8" });
    for (const [i, r] of (JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, unknown>[]).entries()) {
      console.log(`deno invocation ${i + 1}${i === 0 ? " (cold isolate)" : ""}: ${r.claimed} events, ${r.handler_runs} handler runs,` +
        ` stopped ${r.stopped}: ${r.cpu_ms} ms CPU, ${r.wall_ms} ms wall`);
    }
  }, 300_000);
});
