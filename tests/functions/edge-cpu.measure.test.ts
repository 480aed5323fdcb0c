/**
 * How much CPU (this process's, as Node's process.cpuUsage() counts it: the database's
 * own work is not ours) a claim + run + complete batch of marketplace events costs: the
 * figures behind the work bounds of src/functions/drain.ts. Not part of the suite:
 * `FEYXA_MEASURE_CPU=1 npx vitest run tests/functions/edge-cpu.measure.test.ts`.
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../src/engines/index.ts";
import { useDatabase } from "../support/database.ts";
import { testBus } from "../support/bus.ts";
import { checkout, openShop } from "../support/marketplace.ts";

const measure = !!process.env.FEYXA_MEASURE_CPU;

describe.skipIf(!measure)("CPU of a drain batch with the marketplace's handlers", async () => {
  const { sql } = measure ? await useDatabase() : ({} as Awaited<ReturnType<typeof useDatabase>>);

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
});
