/** The bench's four no-op handlers, loaded by the dispatcher CLI (FEYXA_HANDLERS=bench/noop-handlers.ts). */
import { defineHandler } from "../src/bus/index.ts";

export const BENCH_EVENT = "bench.event";
export const BENCH_HANDLERS = ["bench.a", "bench.b", "bench.c", "bench.d"];

export const handlers = BENCH_HANDLERS.map((name) => defineHandler(name, async () => {}));
