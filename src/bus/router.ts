/**
 * Routing: which handlers an event type goes to (and, for steps, what each waits for: its
 * routes' after_handlers), read from event_subscriptions: the routes
 * handlers declare (synchronised from code, src/bus/route-sync.ts) with operators' toggles,
 * remote handlers and automations' triggers, all in one table.
 * With them, the keys of the rate limits that exist (so that only their handlers ask for tokens).
 * Cached, because every attempt asks; refreshed when the cache is older than its TTL,
 * and at once when a dispatcher hears NOTIFY feyxa_subscriptions (see invalidate()).
 */
import { activeSubscriptions, rateLimitKeys, type Subscription } from "./bus-sql.ts";
import type { Sql } from "./types.ts";

/** `*` matches every type; `order.*` every type under `order.`; anything else only itself. */
export function patternMatches(pattern: string, eventType: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return eventType.startsWith(pattern.slice(0, -1));
  return pattern === eventType;
}

/** An event type's routing: its handlers, in a stable order, and what their routes make them wait for. */
export interface RoutedHandlers {
  names: string[];
  /** Handler -> the handlers its matching routes' after_handlers name (only handlers that have some). */
  after: ReadonlyMap<string, readonly string[]>;
  /** The keys of the rate limits that exist (feyxa.rate_limits), read with the routes. */
  rateLimits: ReadonlySet<string>;
  /** Handlers whose matching route an operator paused: they do not run, their runs are deferred. */
  paused: ReadonlySet<string>;
}

/** The routing of one event type over a set of subscriptions. */
export function routeOf(subscriptions: readonly Subscription[], eventType: string, rateLimits: ReadonlySet<string> = new Set()): RoutedHandlers {
  const matching = subscriptions.filter((s) => patternMatches(s.event_pattern, eventType));
  const after = new Map<string, string[]>();
  for (const s of matching) {
    if (s.after_handlers.length) after.set(s.handler_name, [...new Set([...(after.get(s.handler_name) ?? []), ...s.after_handlers])]);
  }
  const paused = new Set(matching.filter((s) => s.paused).map((s) => s.handler_name));
  return { names: [...new Set(matching.map((s) => s.handler_name))].sort(), after, rateLimits, paused };
}

export class Router {
  #subscriptions: Subscription[] = [];
  #rateLimits: ReadonlySet<string> = new Set();
  #loadedAt = -Infinity;
  #loading: Promise<[Subscription[], Set<string>]> | undefined;
  #byType = new Map<string, RoutedHandlers>();

  constructor(private readonly sql: Sql, private readonly ttlMs = 5_000) {}

  /** Forget the cache; the next lookup reloads. */
  invalidate(): void {
    this.#loadedAt = -Infinity;
  }

  /** The distinct handler names subscribed to this event type, in a stable order. */
  async handlersFor(eventType: string): Promise<string[]> {
    return (await this.routeFor(eventType)).names;
  }

  /** routeFor's answer when it needs no reload, without a promise (the dispatcher's every event asks). */
  cachedRoute(eventType: string): RoutedHandlers | undefined {
    return this.#isFresh() ? this.#byType.get(eventType) : undefined;
  }

  /** The handlers subscribed to this event type, with what their routes make them wait for. */
  async routeFor(eventType: string): Promise<RoutedHandlers> {
    await this.#fresh();
    let route = this.#byType.get(eventType);
    if (!route) {
      route = routeOf(this.#subscriptions, eventType, this.#rateLimits);
      this.#byType.set(eventType, route);
    }
    return route;
  }

  /** The subscriptions were loaded less than ttlMs ago (and not invalidated since). */
  #isFresh(): boolean {
    return performance.now() - this.#loadedAt < this.ttlMs;
  }

  async #fresh(): Promise<void> {
    if (this.#isFresh()) return;
    // One reload at a time, however many attempts ask at once.
    this.#loading ??= Promise.all([activeSubscriptions(this.sql), rateLimitKeys(this.sql)]).finally(() => (this.#loading = undefined));
    const startedAt = performance.now();
    const [subscriptions, rateLimits] = await this.#loading;
    if (startedAt >= this.#loadedAt) {
      this.#subscriptions = subscriptions;
      this.#rateLimits = rateLimits;
      this.#byType.clear();
      this.#loadedAt = startedAt;
    }
  }
}
