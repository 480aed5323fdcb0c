/**
 * Steps within a fan-out: a handler may run only after other handlers of the same event
 * have succeeded (`after`, src/bus/define-handler.ts; event_subscriptions.after_handlers).
 * The handlers routed to one event then form a small DAG: runAttempt starts each one when
 * its prerequisites have succeeded, in this attempt or an earlier one, and runs independent
 * ones concurrently. Prerequisites not routed to the event at hand are ignored.
 *
 * Here: the checks made when handlers are registered (every prerequisite is another
 * registered handler, and no handler waits for itself through a cycle), and the plan of one
 * attempt (each routed handler's routed prerequisites, and which cannot run for a cycle
 * that only the database's rows could have made).
 */
import type { Handler } from "./types.ts";

/** Handler name -> the handler names it runs after. */
export type Prerequisites = ReadonlyMap<string, readonly string[]>;

/**
 * Refuses, with a message naming them, a handler set in which a prerequisite names no
 * handler of the set, or whose `after` forms a cycle. Called where handlers are registered
 * (Bus, InMemoryBus, syncRoutes).
 */
export function checkSteps(handlers: readonly Handler[]): void {
  const names = new Set(handlers.map((h) => h.name));
  for (const h of handlers) {
    const unknown = h.after?.filter((name) => !names.has(name)) ?? [];
    if (unknown.length > 0) {
      throw new Error(`${h.name} runs after ${unknown.join(", ")}, which no handler registered with it is named`);
    }
  }
  const cycle = findCycle(new Map(handlers.map((h) => [h.name, h.after ?? []])));
  if (cycle) throw new Error(`the handlers' after forms a cycle: ${cycle.join(" -> ")}; none of them could ever run`);
}

/** A cycle of the graph as a path that ends where it starts, or undefined. */
export function findCycle(after: Prerequisites): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const at = path.indexOf(name);
    if (at >= 0) return [...path.slice(at), name];
    if (done.has(name)) return undefined;
    path.push(name);
    for (const prerequisite of after.get(name) ?? []) {
      const cycle = visit(prerequisite);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(name);
    return undefined;
  };
  for (const name of after.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

export interface AttemptPlan {
  /** Each routed handler's routed prerequisites (its code's `after` and its routes' after_handlers). */
  prerequisites: Map<string, string[]>;
  /** Handlers that wait, directly or through others, in a cycle: they cannot run. */
  cyclic: Set<string>;
}

/**
 * The steps of one attempt over `names` (the handlers routed to the event), or undefined
 * when none of them waits for another (the common case: all run at once, as before).
 */
export function planSteps(names: readonly string[], handlers: ReadonlyMap<string, Handler>, routeAfter?: Prerequisites): AttemptPlan | undefined {
  let prerequisites: Map<string, string[]> | undefined;
  let routed: Set<string> | undefined;
  for (const name of names) {
    const inCode = handlers.get(name)?.after;
    const inRoutes = routeAfter?.get(name);
    if (!inCode?.length && !inRoutes?.length) continue; // no allocation for the common case
    routed ??= new Set(names);
    const own = [...new Set([...(inCode ?? []), ...(inRoutes ?? [])])].filter((p) => p !== name && routed!.has(p));
    if (own.length > 0) (prerequisites ??= new Map()).set(name, own);
  }
  if (!prerequisites) return undefined;
  // What cannot be ordered: repeatedly set aside the handlers whose prerequisites all are;
  // whatever remains waits in, or behind, a cycle.
  const cyclic = new Set(prerequisites.keys());
  for (let changed = true; changed;) {
    changed = false;
    for (const name of cyclic) {
      if (prerequisites.get(name)!.every((p) => !cyclic.has(p))) {
        cyclic.delete(name);
        changed = true;
      }
    }
  }
  return { prerequisites, cyclic };
}
