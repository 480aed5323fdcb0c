/**
 * Routes are written once, in code: each handler declares the event patterns it reacts to
 * (`on`, src/bus/define-handler.ts) and the handlers it runs after (`after`), and syncRoutes
 * writes them into event_subscriptions
 * through sync_routes (supabase/schemas/bus/routes.sql) under a source name: missing
 * routes added, routes no longer declared retired, an operator's toggle and rows left alone.
 * The Router keeps reading event_subscriptions, which still holds what only the database
 * can: those toggles, remote handlers, automations' triggers.
 *
 * A source is one application's whole set of routes: syncing a set retires the source's
 * other routes, so every process of an application syncs the same, complete list.
 */
import { checkSteps } from "./steps.ts";
import type { Handler, Queryable } from "./types.ts";

export interface Route {
  event_pattern: string;
  handler_name: string;
  /** The handlers it runs after (Handler.after), when it has some: event_subscriptions.after_handlers. */
  after?: string[];
}

export interface RouteSyncResult {
  added: number;
  revived: number;
  retired: number;
}

/**
 * Every (pattern, handler) the handlers declare, sorted, each with the handler's `after`
 * when it has one; handlers without `on` declare none.
 */
export function declaredRoutes(handlers: readonly Handler[]): Route[] {
  const routes = handlers.flatMap((h) => [...new Set(h.on ?? [])].map((event_pattern): Route => (
    h.after?.length ? { event_pattern, handler_name: h.name, after: [...new Set(h.after)].sort() } : { event_pattern, handler_name: h.name }
  )));
  return routes.sort((a, b) => a.event_pattern.localeCompare(b.event_pattern) || a.handler_name.localeCompare(b.handler_name));
}

/** Makes the source's routes in event_subscriptions those the handlers declare. Idempotent. */
export async function syncRoutes(sql: Queryable, source: string, handlers: readonly Handler[]): Promise<RouteSyncResult> {
  checkSteps(handlers); // an unknown prerequisite or a cycle is refused before anything is written
  const routes = declaredRoutes(handlers);
  const [{ result }] = await sql<{ result: RouteSyncResult }[]>`
    select feyxa.sync_routes(${source}, ${sql.json(routes as never)}) as result`;
  return result;
}

/**
 * For a runtime that starts lazily (an Edge Function's isolate): the returned function
 * syncs on its first call and, after a failure (reported to onError, never thrown: the
 * routes already in the database keep routing), on the next call.
 */
export function syncRoutesOnce(sql: Queryable, source: string, handlers: readonly Handler[], onError: (error: unknown) => void): () => Promise<void> {
  let synced: Promise<void> | undefined;
  return () =>
    (synced ??= syncRoutes(sql, source, handlers).then(() => {}, (error) => {
      synced = undefined;
      onError(error);
    }));
}
