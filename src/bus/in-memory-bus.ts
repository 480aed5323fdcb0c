/**
 * An in-process bus for handler authors' fast tests: the same
 * handler code, routing patterns, steps (`after`), timeouts, skip-on-retry and outcome rules as the real
 * bus (runAttempt is shared), with events kept in memory. It has no database: a handler
 * that reaches for ctx.sql fails with a message saying so, and belongs in a Postgres test.
 * Time is not simulated: drain() runs every event that is not finished, retries included.
 */
import { declaredRoutes } from "./route-sync.ts";
import { routeOf } from "./router.ts";
import { runAttempt } from "./run-attempt.ts";
import { checkSteps } from "./steps.ts";
import type { BusEvent, EventStatus, Handler, HandlerRun, NewEvent, Sql } from "./types.ts";

export interface InMemorySubscription {
  pattern: string;
  handler: string;
  /** What this route waits for (event_subscriptions.after_handlers), on top of the handler's own `after`. */
  after?: string[];
}

interface Stored {
  event: BusEvent;
  status: EventStatus;
  succeeded: Set<string>;
  attempts: HandlerRun[][];
  error: string | null;
}

const noDatabase = new Proxy(() => {}, {
  get: () => { throw new Error("the in-memory bus has no database; test this handler against Postgres"); },
  apply: () => { throw new Error("the in-memory bus has no database; test this handler against Postgres"); },
}) as unknown as Sql;

export class InMemoryBus {
  readonly #handlers: Map<string, Handler>;
  readonly #events = new Map<string, Stored>();
  readonly #byKey = new Map<string, string>();

  private readonly subscriptions: InMemorySubscription[];

  /** `subscriptions`: by default the routes the handlers declare (their `on`), as sync_routes writes them. */
  constructor(
    handlers: Handler[],
    subscriptions?: InMemorySubscription[],
    private readonly options: { maxRetries?: number; handlerTimeoutMs?: number } = {},
  ) {
    checkSteps(handlers);
    this.#handlers = new Map(handlers.map((h) => [h.name, h]));
    this.subscriptions = subscriptions ?? declaredRoutes(handlers).map((r) => ({ pattern: r.event_pattern, handler: r.handler_name, after: r.after }));
  }

  /** Stores an event (a repeated idempotency key returns the first one's id). */
  emit(e: NewEvent): { eventId: string; inserted: boolean } {
    const existing = e.idempotency_key ? this.#byKey.get(e.idempotency_key) : undefined;
    if (existing) return { eventId: existing, inserted: false };
    const id = crypto.randomUUID();
    const idempotencyKey = e.idempotency_key ?? `${e.event_type}:${id}`;
    this.#byKey.set(idempotencyKey, id);
    this.#events.set(id, {
      event: {
        id, type: e.event_type, aggregateType: e.aggregate_type, aggregateId: e.aggregate_id, tenantId: e.tenant_id ?? null,
        payload: e.payload ?? {}, idempotencyKey, attempt: 0, retryCount: 0, maxRetries: this.options.maxRetries ?? 3, createdAt: new Date(),
        causationId: e.causation_id ?? null, correlationId: e.correlation_id ?? id,
      },
      status: "pending", succeeded: new Set(), attempts: [], error: null,
    });
    return { eventId: id, inserted: true };
  }

  /** One attempt of every pending or failed event; returns how many ran. */
  async drain(): Promise<number> {
    const due = [...this.#events.values()].filter((s) => s.status === "pending" || s.status === "failed");
    await Promise.all(due.map((stored) => this.#attempt(stored)));
    return due.length;
  }

  status(eventId: string): EventStatus | undefined {
    return this.#events.get(eventId)?.status;
  }

  /** The handler runs of each attempt, first attempt first. */
  attempts(eventId: string): HandlerRun[][] {
    return this.#events.get(eventId)?.attempts ?? [];
  }

  error(eventId: string): string | null {
    return this.#events.get(eventId)?.error ?? null;
  }

  async #attempt(stored: Stored): Promise<void> {
    const route = routeOf(
      this.subscriptions.map((s) => ({ event_pattern: s.pattern, handler_name: s.handler, after_handlers: s.after ?? [] })), stored.event.type);
    stored.event = { ...stored.event, attempt: stored.event.attempt + 1 };
    const result = await runAttempt({ ...stored.event, succeededHandlers: [...stored.succeeded] }, route, {
      sql: noDatabase, handlers: this.#handlers, defaultTimeoutMs: this.options.handlerTimeoutMs ?? 10_000,
    });
    stored.attempts.push(result.handlers);
    for (const run of result.handlers) if (run.status === "success") stored.succeeded.add(run.handler_name);
    const failed = result.handlers.filter((r) => r.status === "failed");
    stored.error = failed.map((r) => `${r.handler_name}: ${r.error_message}`).join("; ") || null;
    // The same rules as complete_attempts: refused or out of retries is dead, else failed.
    if (failed.length === 0) stored.status = "completed";
    else if (failed.some((r) => r.retriable === false) || stored.event.retryCount >= stored.event.maxRetries) stored.status = "dead";
    else {
      stored.status = "failed";
      stored.event = { ...stored.event, retryCount: stored.event.retryCount + 1 };
    }
  }
}
