/**
 * process-event: the HTTP door of the bus (POST).
 *
 * - `{event_type, aggregate_type, aggregate_id, tenant_id?, payload, idempotency_key?}`:
 *   emits the event and processes it now, answering with each handler's result.
 *   A duplicate idempotency key answers `duplicate: true` with the original's state,
 *   and runs nothing again (`status: "purged"` when retention took the original).
 * - `{event_id, drain?}`: processes that stored event if it is due (what the
 *   database's pg_net wake-up sends); with `drain`, also other due events, as much as
 *   fits one invocation (src/bus/functions/drain.ts: `max_events`, `max_handler_runs`,
 *   `batch_size`, `budget_ms`), answering `drained: {claimed, batches, stopped, more, ...}`.
 */
import type { Caller } from "../auth.ts";
import type { Bus } from "../bus.ts";
import { eventSummary, type EventSummary } from "../bus-sql.ts";
import { HttpError, toHttpError } from "../errors.ts";
import { type FetchHandler, parseWith } from "../http.ts";
import { existingEventSchema, newEventSchema } from "../schemas.ts";
import { z } from "zod";
import type { AttemptOutcome, ClaimedEvent, NewEvent, Queryable } from "../types.ts";
import type { AuthSource } from "./caller.ts";
import { appendToStream } from "../history/stream.ts";
import { drainLimits, drainWithin } from "./drain.ts";
import { reportsAlive } from "./reports-alive.ts";
import { defineFunction, type Env, type FunctionDefinition, json, route, serveFunction } from "./pipeline.ts";

export interface ProcessEventRules {
  /** Event types a caller other than the server may ask about by event_id. */
  clientEmittable?: ReadonlySet<string>;
  /**
   * Decides whether this caller may emit this event (throws 400/401/403 if not) and what is
   * stored: the event it returns replaces the caller's (for a caller other than the server,
   * one derived from stored state); none: the caller's as given. Unset: only the server emits.
   */
  authorizeEmit?: (tx: Queryable, caller: Caller, event: NewEvent) => Promise<NewEvent | void | undefined>;
  /** Payload schemas by event type (the engines' catalog); types not listed take any JSON object. */
  payloadSchemas?: Readonly<Record<string, z.ZodType>>;
  /** How long a drain wake-up claims (default FEYXA_DRAIN_BUDGET_MS, else 1 s: src/bus/functions/drain.ts). */
  drainBudgetMs?: number;
}

export interface ProcessEventOptions extends ProcessEventRules {
  /** How callers are verified; unset: the function answers 503. */
  auth: AuthSource;
  /** The environment, read per request: the FEYXA_DRAIN_* limits of a drain wake-up. */
  env?: () => Env;
  onError?: (error: unknown) => void;
}

/** The function, given the app's rules (who may emit what, the payload schemas). */
export function processEventFunction(options: ProcessEventRules = {}): FunctionDefinition {
  const authorizeEmit = options.authorizeEmit ?? serverOnly;
  return defineFunction({
    name: "process-event",
    auth: "anyone",
    routes: [route("POST", {
      body: z.record(z.string(), z.unknown()), maxBytes: 128 * 1024,
      handle: reportsAlive("process-event", async ({ bus, caller, body, env }) => {
        if ("event_id" in body) {
          const input = parseWith(existingEventSchema, body);
          if (caller.kind !== "server") await authorizeAsk(bus, input, options.clientEmittable ?? new Set());
          const startedAt = performance.now();
          const limits = input.drain
            ? drainLimits(input, env(), "FEYXA_DRAIN_BUDGET_MS", options.drainBudgetMs)
            : undefined;
          const claimed = await bus.claimOne(input.event_id);
          // Its attempt's span starts where the invocation's bounds do, just before the claim.
          const outcome = claimed ? (await bus.process([claimed], startedAt))[0] : undefined;
          const result = outcome ? describeOutcome(outcome, claimed!.attempt) : await currentAnswer(bus, input.event_id, false);
          // The event asked about counts against the invocation's bounds like any other.
          const drained = limits ? await drainWithin(bus, limits, { startedAt, outcomes: outcome ? [outcome] : [] }) : undefined;
          return json({ ...result, ...(drained ? { drained } : {}) });
        }
        const input = clientKeysApart(caller, parseWith(newEventSchema, body));
        // Emit and claim in one transaction: a dispatcher woken by the NOTIFY at commit
        // finds the event already leased to us and leaves it alone.
        const { report, claimed } = await bus.sql.begin(async (tx) => {
          const derived = await authorizeEmit(tx, caller, input);
          const event = derived ?? input;
          const payloadSchema = options.payloadSchemas?.[event.event_type];
          if (payloadSchema) parseWith(payloadSchema, event.payload, "payload");
          const report = derived || input.expected_version === undefined
            ? await bus.emit(event, tx)
            : await appendToStream(tx, input, input.expected_version);
          const claimed = report.inserted ? await bus.claimOne(report.eventId, tx) : undefined;
          return { report, claimed };
        });
        if (!report.inserted) return json(await currentAnswer(bus, report.eventId, true));
        // Stored but not due yet (scheduled for later, or held behind its line): accepted as is.
        if (!claimed) return json(await currentAnswer(bus, report.eventId, false), 201);
        try {
          return json(await processedAnswer(bus, claimed), 201);
        } catch (error) {
          // The event is stored: whatever went wrong while processing it now (the database went
          // away), its lease runs out and it is processed again. Say "accepted", never "failed".
          if (toHttpError(error).status !== 503) throw error;
          return json({ event_id: report.eventId, duplicate: false, processed: false, status: "processing",
            message: "accepted; processing was interrupted and will resume" }, 202);
        }
      }),
    })],
  });
}

/** The function on its own, as a handler (library use, the tests). */
export function createProcessEvent(bus: Bus, options: ProcessEventOptions): FetchHandler {
  return serveFunction(processEventFunction(options), { ...options, bus, env: options.env ?? (() => ({})) });
}

/**
 * A caller other than the server chooses no key of the server's (`order.cancelled:<id>`,
 * which would make the server's own emit of that fact a duplicate): its keys live under
 * `client:<user id>:` (`client:anon:` for anon).
 */
function clientKeysApart<T extends { idempotency_key?: string | null }>(caller: Caller, input: T): T {
  if (caller.kind === "server" || input.idempotency_key == null) return input;
  const prefix = `client:${caller.kind === "user" ? caller.claims.sub : "anon"}:`;
  if (prefix.length + input.idempotency_key.length > 200) {
    throw new HttpError(400, "invalid_request", `idempotency_key: at most ${200 - prefix.length} characters`, "idempotency_key");
  }
  return { ...input, idempotency_key: prefix + input.idempotency_key };
}

async function serverOnly(_tx: Queryable, caller: Caller): Promise<void> {
  if (caller.kind !== "server") throw new HttpError(403, "forbidden", "only the server may emit events here", "event_type");
}

/** A caller other than the server may ask for a client-emittable event only, and may not drain. */
async function authorizeAsk(bus: Bus, input: { event_id: string; drain?: boolean }, clientEmittable: ReadonlySet<string>) {
  if (input.drain) throw new HttpError(403, "forbidden", "only the server may drain", "drain");
  const [event] = await bus.sql<{ event_type: string }[]>`select event_type from feyxa.events_log where id = ${input.event_id}::uuid`;
  if (!event) throw new HttpError(404, "not_found", `no event with id ${input.event_id}`, "event_id");
  if (!clientEmittable.has(event.event_type)) throw new HttpError(403, "forbidden", "this event is processed by the server only", "event_id");
}

async function processedAnswer(bus: Bus, claimed: ClaimedEvent) {
  const [outcome] = await bus.process([claimed]);
  return describeOutcome(outcome, claimed.attempt);
}

function describeOutcome(outcome: AttemptOutcome, attempt: number) {
  return {
    event_id: outcome.eventId,
    duplicate: false,
    processed: true,
    status: outcome.status,
    attempt,
    handlers: outcome.handlers.map(({ handler_name, status, duration_ms, error_message }) => ({ handler_name, status, duration_ms, error_message })),
  };
}

async function currentAnswer(bus: Bus, eventId: string, duplicate: boolean) {
  const summary = await eventSummary(bus.sql, eventId);
  // A duplicate of an event the retention purge took (its key is kept): it completed.
  if (!summary && duplicate) return { event_id: eventId, duplicate, processed: false, status: "purged", handlers: [] };
  if (!summary) throw new HttpError(404, "not_found", `no event with id ${eventId}`, "event_id");
  return describeSummary(summary, duplicate);
}

function describeSummary(s: EventSummary, duplicate: boolean) {
  return {
    event_id: s.eventId,
    duplicate,
    processed: false,
    status: s.status,
    attempt: s.attempt,
    next_retry_at: s.nextRetryAt,
    error_message: s.errorMessage,
    handlers: s.handlers,
  };
}
