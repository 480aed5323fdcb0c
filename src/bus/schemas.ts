/** The shapes the functions accept, checked before anything touches the database. */
import { z } from "zod";

export const eventTypeSchema = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, "must be lowercase words joined by dots, like order.created");

export const newEventSchema = z
  .strictObject({
    event_type: eventTypeSchema,
    aggregate_type: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, "must be a lowercase word, like order"),
    aggregate_id: z.uuid(),
    /** The optional tenant (partition) key; what it names is the application's business. */
    tenant_id: z.uuid().nullish(),
    /** Deprecated: 0.1.0's name of tenant_id, still read when tenant_id is absent (removed in 0.3.0). */
    store_id: z.uuid().nullish(),
    payload: z.record(z.string(), z.unknown()).default({}),
    idempotency_key: z.string().min(1).max(200).nullish(),
    /** Append to the aggregate's event-sourced stream, only if it is at this version (else 409). */
    expected_version: z.number().int().min(0).max(1_000_000_000).optional(),
    /** Flow control (docs/flow-control.md): when, how urgently, in which line. */
    deliver_at: z.iso.datetime({ offset: true }).nullish(),
    delay: z.number().min(0).max(31_536_000).nullish(),
    priority: z.number().int().min(0).max(1000).nullish(),
    ordering_key: z.string().min(1).max(200).nullish(),
    /** The event on whose behalf this one is emitted, and its story's first event (docs/design.md#stories). */
    causation_id: z.uuid().nullish(),
    correlation_id: z.uuid().nullish(),
  })
  .refine((e) => e.deliver_at == null || e.delay == null, { message: "give deliver_at or delay, not both", path: ["delay"] })
  .refine((e) => e.tenant_id == null || e.store_id == null || e.tenant_id.toLowerCase() === e.store_id.toLowerCase(), {
    message: "differs from tenant_id (store_id is its old name: send one)",
    path: ["store_id"],
  })
  .transform(({ store_id, ...e }) => ({ ...e, tenant_id: e.tenant_id ?? store_id }));

/** The largest caps an invocation's drain may be given: without caps, these are its defaults (src/bus/functions/drain.ts). */
export const DRAIN_CAPS = { maxEvents: 10_000, maxHandlerRuns: 100_000 } as const;

/**
 * How much one invocation of a drain may do before it stops claiming (src/bus/functions/drain.ts).
 * All optional: the defaults (or the FEYXA_DRAIN_* settings) fit the Edge Runtime's 2 s of CPU.
 */
export const drainLimitsInput = {
  /** Claim no more events than this in one invocation: the work bound. */
  max_events: z.number().int().min(1).max(DRAIN_CAPS.maxEvents).optional(),
  /** Start no batch whose handler runs could take the invocation past this many. */
  max_handler_runs: z.number().int().min(1).max(DRAIN_CAPS.maxHandlerRuns).optional(),
  /** Events per claim (one claim, one completion statement). */
  batch_size: z.number().int().min(1).max(500).optional(),
  /** Start no batch after this long (wall clock, which bounds the invocation's CPU too: src/bus/functions/drain.ts). */
  budget_ms: z.number().int().min(100).max(120_000).optional(),
};

export const existingEventSchema = z.strictObject({
  event_id: z.uuid(),
  /** Also drain other due events, within the limits below (what the database's wake-up asks). */
  drain: z.boolean().optional(),
  ...drainLimitsInput,
});

export const processEventInput = z.union([existingEventSchema, newEventSchema]);

export const retryInput = z.strictObject(drainLimitsInput);
