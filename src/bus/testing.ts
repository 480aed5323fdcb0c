/**
 * What a handler author's tests take from the bus, one of the entries declared in
 * ./exports.json ("./testing"): the in-memory bus, which runs handlers as the real one does
 * (routes, steps, timeouts, outcomes) with no database (docs/design.md).
 */
export { InMemoryBus, type InMemorySubscription } from "./in-memory-bus.ts";
