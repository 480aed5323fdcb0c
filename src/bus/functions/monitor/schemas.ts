/** What the event-monitor function accepts: query strings for reads, JSON bodies for actions. */
import { z } from "zod";
import { eventTypeSchema } from "../../schemas.ts";
import { EVENT_STATUSES, OPERATOR_ACTIONS, WAITING_REASONS } from "../../vocabulary.ts";

/**
 * The start of an event type: `order` matches order.created and order.paid, `order.created`
 * itself (and any type that starts with it). A trailing `*` (`order.*`) is accepted and
 * means the same: the operator need not know a wildcard syntax.
 */
const typeFilter = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_.]*\*?$/, "must be the start of an event type, like order or order.created");

/** Filters shared by the event list and the stats. */
const scope = {
  type: typeFilter.optional(),
  tenant: z.uuid().optional(),
};

export const listQuery = z.strictObject({
  ...scope,
  /** One status or several, comma-separated. */
  status: z
    .string()
    .transform((s) => s.split(",").filter(Boolean))
    .pipe(z.array(z.enum(EVENT_STATUSES)).max(EVENT_STATUSES.length))
    .optional(),
  /** Open events only, waiting for these reasons (one or several, comma-separated). */
  waiting: z
    .string()
    .transform((s) => s.split(",").filter(Boolean))
    .pipe(z.array(z.enum(WAITING_REASONS)).max(WAITING_REASONS.length))
    .optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** An event id or an aggregate id, whole or its first characters (at least 4, as shown: 8), or an idempotency key. */
  q: z.string().trim().min(1).max(200).optional(),
  /** Only the failed and dead events whose error has this fingerprint (feyxa.error_fingerprint). */
  fp: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** next_cursor of the previous page. */
  cursor: z.string().max(300).optional(),
});
export type ListQuery = z.infer<typeof listQuery>;

/** GET /story: an event id, an aggregate or correlation id, or a term the application's hook knows (an order number). */
export const storyQuery = z.strictObject({ q: z.string().trim().min(1).max(200) });

/** The windows the stats can cover, with the width of a throughput bucket for each. */
export const WINDOWS = {
  "15m": { interval: "15 minutes", bucketSeconds: 60 },
  "1h": { interval: "1 hour", bucketSeconds: 60 },
  "6h": { interval: "6 hours", bucketSeconds: 300 },
  "24h": { interval: "24 hours", bucketSeconds: 900 },
  "7d": { interval: "7 days", bucketSeconds: 7200 },
} as const;

export const statsQuery = z.strictObject({
  ...scope,
  window: z.enum(Object.keys(WINDOWS) as [keyof typeof WINDOWS]).default("1h"),
});
export type StatsQuery = z.infer<typeof statsQuery>;
export type Scope = Pick<ListQuery, "type" | "tenant">;
/** The failures view: type and tenant only. */
export const scopeQuery = z.strictObject(scope);

const actionId = z.uuid();

export const actionInput = z.discriminatedUnion("kind", [
  z.strictObject({ action_id: actionId, kind: z.literal("retry"), event_id: z.uuid() }),
  z.strictObject({
    action_id: actionId,
    kind: z.literal("redrive"),
    event_type: eventTypeSchema,
    /** Only the dead events with exactly this error (a row of the dead-letter table). */
    error: z.string().max(4000).nullish(),
  }),
  z.strictObject({
    action_id: actionId,
    kind: z.literal("replay"),
    event_id: z.uuid(),
    handler_name: z.string().regex(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, "must look like engine.handler"),
    /** Also run the other handlers the event still owes (the attempt cannot run fewer). */
    include_owed: z.boolean().default(false),
  }),
  z.strictObject({
    action_id: actionId,
    kind: z.literal("discard"),
    event_id: z.uuid(),
    /** Why it must never run: kept in the event's error_message and the audit row. */
    reason: z.string().trim().min(1).max(500),
  }),
  z.strictObject({
    action_id: actionId,
    kind: z.literal("cancel"),
    event_id: z.uuid(),
    /** Why it must not run (a pending event: scheduled, held or due). */
    reason: z.string().trim().min(1).max(500),
  }),
]);
export type ActionInput = z.infer<typeof actionInput>;

/** The bulk actions, and the statuses each may act on (the single transitions' own rules). */
export const BULK_KINDS = { retry: OPERATOR_ACTIONS.retry, redrive: OPERATOR_ACTIONS.redrive, discard: OPERATOR_ACTIONS.discard } as const;
export type BulkKind = keyof typeof BULK_KINDS;
const bulkKind = z.enum(Object.keys(BULK_KINDS) as [BulkKind, ...BulkKind[]]);

/** The list's filters, as a bulk action takes them (the page sends the ones it shows). */
const bulkFilter = listQuery.omit({ limit: true, cursor: true });
export type BulkFilter = z.infer<typeof bulkFilter>;

/** GET /bulk: how many events an action over these filters would touch. */
export const bulkPreviewQuery = bulkFilter.extend({ kind: bulkKind });
export type BulkPreviewQuery = z.infer<typeof bulkPreviewQuery>;

/** POST /bulk: one batch; call again with next_cursor (and a fresh action_id) until it is null. */
export const bulkInput = z.strictObject({
  action_id: actionId,
  kind: bulkKind,
  /** The filters as query-string values (status comma-separated), as the list takes them. */
  filter: z.record(z.string(), z.string().max(500)).pipe(bulkFilter),
  cursor: z.string().max(300).nullish(),
  /** discard only: why these events must never run. */
  reason: z.string().trim().min(1).max(500).optional(),
}).refine((input) => input.kind !== "discard" || input.reason, { message: "reason: required to discard", path: ["reason"] });
export type BulkInput = z.infer<typeof bulkInput>;

/** GET /routes: the window of the numbers. */
export const routesQuery = z.strictObject({ window: z.enum(Object.keys(WINDOWS) as [keyof typeof WINDOWS]).default("1h") });
export type RoutesQuery = z.infer<typeof routesQuery>;

/** POST /routes: pause or resume one route. */
export const routeAction = z.strictObject({
  action_id: actionId,
  action: z.enum(["pause", "resume"]),
  event_pattern: z.string().max(200).regex(/^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/, "must be a route's pattern, like order.created, order.* or *"),
  handler_name: z.string().max(200).regex(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, "must look like engine.handler"),
});
export type RouteAction = z.infer<typeof routeAction>;
