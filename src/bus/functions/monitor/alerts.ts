/**
 * The alert rules from the monitor (docs/observability.md#alerts-first-part), as the signed-in
 * operator (RLS: supabase/schemas/bus/reads.sql; others see nothing and may change nothing):
 *
 *   GET  /event-monitor/alerts   the rules with their state (firing, value, since), the 50 latest notices
 *   POST /event-monitor/alerts   {op: "create", name, kind, threshold, event_type?, handler_name?, tenant_id?,
 *                                 window_minutes?, repeat_minutes?} | {op: "pause" | "resume" | "delete", rule_id}
 */
import { z } from "zod";
import { HttpError } from "../../errors.ts";
import { ALERT_KINDS, ROUTE_ALERT_KINDS } from "../../vocabulary.ts";
import { json, type RequestContext, route } from "../pipeline.ts";
import { userOf } from "../caller.ts";
import { asCaller, type CallerSql } from "../as-caller.ts";
import type { alertChange, alertsAnswer, Built } from "./answers.ts";

const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const HANDLER = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;
const ROUTE_KINDS: readonly string[] = ROUTE_ALERT_KINDS;

export const alertInput = z.discriminatedUnion("op", [
  z.strictObject({
    op: z.literal("create"),
    name: z.string().min(1).max(200),
    kind: z.enum(ALERT_KINDS),
    threshold: z.number().min(0).max(1_000_000),
    event_type: z.string().max(100).regex(EVENT_TYPE).optional(),
    handler_name: z.string().max(100).regex(HANDLER).optional(),
    tenant_id: z.uuid().optional(),
    window_minutes: z.number().int().min(1).max(10_080).optional(),
    repeat_minutes: z.number().int().min(0).max(10_080).optional(),
  }),
  z.strictObject({ op: z.enum(["pause", "resume", "delete"]), rule_id: z.uuid() }),
]).superRefine((input, ctx) => {
  if (input.op !== "create") return;
  const perRoute = ROUTE_KINDS.includes(input.kind);
  if (perRoute && !input.handler_name) ctx.addIssue({ code: "custom", path: ["handler_name"], message: `required for ${input.kind}` });
  if (!perRoute && input.handler_name) ctx.addIssue({ code: "custom", path: ["handler_name"], message: `only for ${ROUTE_KINDS.join(" or ")}` });
  if (perRoute && input.event_type) ctx.addIssue({ code: "custom", path: ["event_type"], message: `not for ${input.kind} (a route's rule)` });
  if (perRoute && input.tenant_id) ctx.addIssue({ code: "custom", path: ["tenant_id"], message: `not for ${input.kind} (a route's rule)` });
  if (input.kind === "failure_rate" && input.threshold > 100) ctx.addIssue({ code: "custom", path: ["threshold"], message: "a percentage: at most 100" });
});
export type AlertInput = z.infer<typeof alertInput>;

type Alerts = Built<typeof alertsAnswer>;

async function listAlerts(tx: CallerSql): Promise<Alerts> {
  const rules = await tx<Alerts["rules"]>`
    select r.id, r.name, r.kind, r.tenant_id, r.event_type, r.handler_name, r.threshold,
           (extract(epoch from r.window_length) / 60)::float8 as window_minutes, (extract(epoch from r.repeat_interval) / 60)::float8 as repeat_minutes,
           r.is_active, r.created_at, coalesce(s.firing, false) as firing, s.value, s.since, s.notified_at, s.resolved_at
    from feyxa.alert_rules r left join feyxa.alert_states s on s.rule_id = r.id order by r.created_at`;
  const notices = await tx<Alerts["notices"]>`
    select id, rule_id, tenant_id, kind, value, message, created_at from feyxa.alert_notices order by created_at desc, id desc limit 50`;
  return { rules, notices };
}

type AlertChange = Built<typeof alertChange>;

async function changeAlerts(tx: CallerSql, input: AlertInput): Promise<AlertChange> {
  if (input.op === "create") {
    const [rule] = await tx<AlertChange["rule"][]>`
      insert into feyxa.alert_rules (name, kind, threshold, event_type, handler_name, tenant_id, window_length, repeat_interval)
      values (${input.name}, ${input.kind}, ${input.threshold}, ${input.event_type ?? null}, ${input.handler_name ?? null},
              ${input.tenant_id ?? null}::uuid, make_interval(mins => ${input.window_minutes ?? 15}),
              make_interval(mins => ${input.repeat_minutes ?? 240}))
      returning id, name, kind, is_active`;
    return { rule };
  }
  const rows = input.op === "delete"
    ? await tx<AlertChange["rule"][]>`delete from feyxa.alert_rules where id = ${input.rule_id}::uuid returning id, name, kind, is_active`
    : await tx<AlertChange["rule"][]>`update feyxa.alert_rules set is_active = ${input.op === "resume"} where id = ${input.rule_id}::uuid returning id, name, kind, is_active`;
  // Not there, or not the caller's to see (RLS): the same answer.
  if (rows.length === 0) throw new HttpError(404, "not_found", `no alert rule ${input.rule_id}`, "rule_id");
  return { rule: rows[0] };
}

/** The routes, registered by event-monitor.ts. */
export const alertRoutes = [
  route("GET /alerts", {
    handle: async ({ bus, caller }: RequestContext<unknown, unknown>) => json(await asCaller(bus.sql, userOf(caller), listAlerts)),
  }),
  route("POST /alerts", {
    body: alertInput, maxBytes: 8 * 1024,
    idempotent: true, // a retried create with its Idempotency-Key makes one rule (the other actions dedupe by action_id)
    handle: async ({ bus, caller, body }) =>
      json(await asCaller(bus.sql, userOf(caller), (tx) => changeAlerts(tx, body), { readOnly: false })),
  }),
];
