/**
 * What an automation may say, checked when it is saved and again when it runs.
 * Filter: `{ "<payload.path>": value }` for equality, or `{ "<path>": { gte, lte, in, contains } }`.
 * Reactions: emit an event (a custom type: the marketplace's own facts come from the
 * marketplace), notify the store, or send an email; strings may use {{event.type}},
 * {{event.aggregate_id}} and {{payload.<path>}} from the triggering event.
 */
import { z } from "zod";
import { eventTypeSchema } from "../../bus/index.ts";
import { isCatalogued } from "../engines/catalog.ts";

const path = z.string().regex(/^[a-zA-Z_][\w]*(\.[a-zA-Z_][\w]*){0,5}$/, "must be a payload path like total_minor or customer.email");
const scalar = z.union([z.string().max(500), z.number(), z.boolean(), z.null()]);
const condition = z.union([
  scalar,
  z.strictObject({
    gte: z.number().optional(), lte: z.number().optional(), in: z.array(scalar).max(50).optional(), contains: z.string().max(200).optional(),
  }).refine((c) => Object.keys(c).length > 0, "give at least one of gte, lte, in, contains"),
]);

export const triggerFilterSchema = z.record(path, condition).refine((f) => Object.keys(f).length <= 20, "at most 20 conditions");

const template = z.string().min(1).max(2000);

/**
 * Where automations may reach out: an http(s) URL here; whether its host is public (or
 * allow-listed) is decided by the database when it is saved (outbound_url_refusal, which
 * also guards writes through the REST API) and by the outbound guard at each request.
 */
const outboundUrl = z.url({ protocol: /^https?$/, error: "must be an https URL" }).max(2000);

export const reactionSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("emit"),
    event_type: eventTypeSchema.refine((t) => !isCatalogued(t), "automations emit their own event types, not the marketplace's"),
    payload: z.record(z.string().max(60), z.union([template, z.number(), z.boolean(), z.null()])).default({}),
  }),
  z.strictObject({ type: z.literal("notify"), title: template.max(300), body: template.optional() }),
  z.strictObject({ type: z.literal("email"), to: template.max(254), subject: template.max(300), html: template }),
  z.strictObject({
    type: z.literal("webhook"),
    url: outboundUrl,
    payload: z.record(z.string().max(60), z.union([template, z.number(), z.boolean(), z.null()])).default({}),
  }),
]);

/** A polling trigger: fetch `url` every `interval_seconds`, take the array at `items_path`, key each item by `id_field`. */
export const pollSchema = z.strictObject({
  url: outboundUrl,
  interval_seconds: z.number().int().min(10).max(86_400).default(300),
  items_path: path.optional(),
  id_field: path.default("id"),
});

const patternSchema = z.string().regex(/^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/, "an event type, a prefix like order.*, or *");

/** Saved as given for event triggers; a poll trigger listens to its own automation.polled events. */
export const automationInput = z.strictObject({
  store_id: z.uuid(),
  name: z.string().min(1).max(120),
  trigger_kind: z.enum(["event", "poll"]).default("event"),
  trigger_pattern: patternSchema.optional(),
  poll: pollSchema.optional(),
  trigger_filter: triggerFilterSchema.default({}),
  reactions: z.array(reactionSchema).min(1).max(10),
  is_active: z.boolean().default(true),
}).superRefine((a, ctx) => {
  if (a.trigger_kind === "event" && !a.trigger_pattern) ctx.addIssue({ code: "custom", path: ["trigger_pattern"], message: "required for an event trigger" });
  if (a.trigger_kind === "poll" && !a.poll) ctx.addIssue({ code: "custom", path: ["poll"], message: "required for a poll trigger" });
  if (a.trigger_kind === "event" && a.poll) ctx.addIssue({ code: "custom", path: ["poll"], message: "only for a poll trigger" });
}).transform((a) => ({ ...a, trigger_pattern: a.trigger_kind === "poll" ? "automation.polled" : a.trigger_pattern!, poll: a.poll ?? null }));

export type Reaction = z.infer<typeof reactionSchema>;
export type TriggerFilter = z.infer<typeof triggerFilterSchema>;
