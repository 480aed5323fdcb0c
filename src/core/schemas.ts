/** The shapes the functions accept, checked before anything touches the database. */
import { z } from "zod";

export const eventTypeSchema = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, "must be lowercase words joined by dots, like order.created");

export const newEventSchema = z.strictObject({
  event_type: eventTypeSchema,
  aggregate_type: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, "must be a lowercase word, like order"),
  aggregate_id: z.uuid(),
  store_id: z.uuid().nullish(),
  payload: z.record(z.string(), z.unknown()).default({}),
  idempotency_key: z.string().min(1).max(200).nullish(),
  /** Append to the aggregate's event-sourced stream, only if it is at this version (else 409). */
  expected_version: z.number().int().min(0).max(1_000_000_000).optional(),
});

export const existingEventSchema = z.strictObject({
  event_id: z.uuid(),
  /** Also drain other due events within the time budget (what the database's wake-up asks). */
  drain: z.boolean().optional(),
});

export const processEventInput = z.union([existingEventSchema, newEventSchema]);

export const retryInput = z.strictObject({
  /** Stop claiming new batches after this long (an Edge Function has seconds, not minutes). */
  budget_ms: z.number().int().min(100).max(120_000).optional(),
  batch_size: z.number().int().min(1).max(500).optional(),
});
