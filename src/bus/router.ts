/**
 * Routing: which handlers an event type goes to, read from event_subscriptions: the routes
 * handlers declare (synchronised from code, src/bus/route-sync.ts) with operators' toggles,
 * remote handlers and automations' triggers, all in one table.
 * Cached, because every attempt asks; refreshed when the cache is older than its TTL,
 * and at once when a dispatcher hears NOTIFY feyxa_subscriptions (see invalidate()).
 */
import { activeSubscriptions, type Subscription } from "./bus-sql.ts";
import type { Sql } from "./types.ts";

/** `*` matches every type; `order.*` every type under `order.`; anything else only itself. */
export function patternMatches(pattern: string, eventType: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return eventType.startsWith(pattern.slice(0, -1));
  return pattern === eventType;
}

export class Router {
  #subscriptions: Subscription[] = [];
  #loadedAt = -Infinity;
  #loading: Promise<Subscription[]> | undefined;
  #byType = new Map<string, string[]>();

  constructor(private readonly sql: Sql, private readonly ttlMs = 5_000) {}

  /** Forget the cache; the next lookup reloads. */
  invalidate(): void {
    this.#loadedAt = -Infinity;
  }

  /** The distinct handler names subscribed to this event type, in a stable order. */
  async handlersFor(eventType: string): Promise<string[]> {
    await this.#fresh();
    let names = this.#byType.get(eventType);
    if (!names) {
      names = [...new Set(this.#subscriptions.filter((s) => patternMatches(s.event_pattern, eventType)).map((s) => s.handler_name))].sort();
      this.#byType.set(eventType, names);
    }
    return names;
  }

  async #fresh(): Promise<void> {
    if (performance.now() - this.#loadedAt < this.ttlMs) return;
    // One reload at a time, however many attempts ask at once.
    this.#loading ??= activeSubscriptions(this.sql).finally(() => (this.#loading = undefined));
    const startedAt = performance.now();
    const subscriptions = await this.#loading;
    if (startedAt >= this.#loadedAt) {
      this.#subscriptions = subscriptions;
      this.#byType.clear();
      this.#loadedAt = startedAt;
    }
  }
}
