/**
 * automations.run: for an event of a store, run every active automation of that store
 * whose trigger matches, once. Each automation's outcome is one automation_runs row; a
 * success is never run again, and every reaction is keyed (event, automation, reaction),
 * so a retry after a failure repeats no effect. An automation's own events carry their
 * chain depth: a chain deeper than 3 is stopped (an automation triggering itself).
 */
import {
  type BusEvent,
  coerceError,
  contextForPart,
  defineHandler,
  type Handler,
  type HandlerContext,
  NonRetriableError,
  outboundFetch,
  type OutboundPolicy,
  patternMatches,
  STRICT_OUTBOUND,
} from "../../bus/index.ts";
import { aggregateTypeOf } from "../engines/catalog.ts";
import { deliverEmail } from "../services/email/outbox.ts";
import type { EmailProvider } from "../services/email/provider.ts";
import { notify } from "../services/notify.ts";
import { fill, matchesFilter } from "./evaluate.ts";
import { type Reaction, reactionSchema, triggerFilterSchema } from "./schema.ts";

const MAX_DEPTH = 3;

interface AutomationRow {
  id: string;
  name: string;
  trigger_kind: "event" | "poll";
  trigger_pattern: string;
  trigger_filter: unknown;
  reactions: unknown;
  run_status: string | null;
}

/** `outbound`: where webhook reactions may go (src/bus/outbound.ts); by default https to public addresses only. */
export function runAutomations(email: EmailProvider | undefined, outbound: OutboundPolicy = STRICT_OUTBOUND): Handler {
  return defineHandler("automations.run", async (event, ctx) => {
    if (!event.tenantId) return;
    const automations = await ctx.sql<AutomationRow[]>`
      select a.id, a.name, a.trigger_kind, a.trigger_pattern, a.trigger_filter, a.reactions, r.status as run_status
      from automations a left join automation_runs r on r.automation_id = a.id and r.event_id = ${event.id}::uuid
      where a.store_id = ${event.tenantId}::uuid and a.is_active
      order by a.created_at, a.id`;
    const depth = Number((event.payload as { _automation?: { depth?: unknown } })._automation?.depth ?? 0);
    const failures: { text: string; final: boolean }[] = [];
    for (const automation of automations) {
      if (automation.run_status === "success" || automation.run_status === "skipped") continue;
      if (!triggers(automation, event)) continue;
      const filter = triggerFilterSchema.safeParse(automation.trigger_filter);
      const reactions = reactionSchema.array().safeParse(automation.reactions);
      if (!filter.success || !reactions.success) {
        await record(ctx, event, automation.id, "failed", 0, "the automation no longer validates; edit and save it again");
        continue;
      }
      // A poll trigger's filter reads the polled item; an event trigger's, the payload.
      const subject = automation.trigger_kind === "poll" ? (event.payload.item as Record<string, unknown>) ?? {} : event.payload;
      if (!matchesFilter(filter.data, subject)) continue;
      if (depth >= MAX_DEPTH) {
        await record(ctx, event, automation.id, "skipped", 0, `stopped: a chain of automations deeper than ${MAX_DEPTH}`);
        continue;
      }
      let done = 0;
      try {
        for (const [i, reaction] of reactions.data.entries()) {
          await react(reaction, event, contextForPart(ctx, `${automation.id}:${i}`), { email, outbound, automationId: automation.id, depth });
          done++;
        }
        await record(ctx, event, automation.id, "success", done, null);
      } catch (thrown) {
        const error = coerceError(thrown);
        await record(ctx, event, automation.id, "failed", done, error.message);
        failures.push({ text: `${automation.name}: ${error.message}`, final: error instanceof NonRetriableError });
      }
    }
    if (!failures.length) return;
    const message = failures.map((f) => f.text).join("; ").slice(0, 1500);
    // Only when no failure can heal on a retry (a refused URL) does the run go to the dead letters at once.
    throw failures.every((f) => f.final) ? new NonRetriableError(message) : new Error(message);
  });
}

/** An event trigger matches by pattern; a poll trigger only its own automation.polled events. */
function triggers(automation: AutomationRow, event: BusEvent): boolean {
  if (automation.trigger_kind === "poll") return event.type === "automation.polled" && event.payload.automation_id === automation.id;
  return patternMatches(automation.trigger_pattern, event.type);
}

async function react(
  reaction: Reaction,
  event: BusEvent,
  ctx: HandlerContext,
  context: { email: EmailProvider | undefined; outbound: OutboundPolicy; automationId: string; depth: number },
): Promise<void> {
  if (reaction.type === "emit") {
    const payload = fillAll(reaction.payload, event);
    payload._automation = { id: context.automationId, depth: context.depth + 1, source_event_id: event.id };
    await ctx.sql`select feyxa.emit_event(${reaction.event_type}, ${aggregateTypeOf(reaction.event_type)}, ${event.aggregateId}::uuid,
                                    ${event.tenantId}::uuid, ${ctx.sql.json(payload as never)}, ${ctx.idempotencyKey})`;
  } else if (reaction.type === "notify") {
    await notify(ctx, { storeId: event.tenantId, kind: "automation", title: fill(reaction.title, event), body: fill(reaction.body ?? "", event), data: { event_id: event.id, automation_id: context.automationId } });
  } else if (reaction.type === "webhook") {
    await callWebhook(reaction.url, fillAll(reaction.payload, event), event, ctx, context);
  } else {
    const to = fill(reaction.to, event);
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(to)) throw new Error(`email: "${to.slice(0, 80)}" is not an email address`);
    await deliverEmail(ctx, context.email, { to, subject: fill(reaction.subject, event), html: fill(reaction.html, event), storeId: event.tenantId });
  }
}

function fillAll(values: Record<string, string | number | boolean | null>, event: BusEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? fill(v, event) : v]));
}

/**
 * POSTs a Standard Webhooks delivery: webhook-id is the reaction's key (stable across
 * retries), signed with the automation's own secrets ('automation.<id>') when it has any.
 */
async function callWebhook(
  url: string, data: Record<string, unknown>, event: BusEvent, ctx: HandlerContext, { automationId, outbound }: { automationId: string; outbound: OutboundPolicy },
) {
  const body = JSON.stringify({ type: "automation.webhook", automation_id: automationId, event: { id: event.id, type: event.type, aggregate_id: event.aggregateId }, data });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const [{ signature }] = await ctx.sql<{ signature: string | null }[]>`
    select feyxa.webhook_signatures(${`automation.${automationId}`}, ${`${ctx.idempotencyKey}.${timestamp}.${body}`}) as signature`;
  const response = await outboundFetch(url, {
    method: "POST",
    signal: ctx.signal,
    body,
    headers: {
      "content-type": "application/json", "webhook-id": ctx.idempotencyKey, "webhook-timestamp": timestamp,
      ...(signature ? { "webhook-signature": signature } : {}),
    },
  }, outbound);
  await response.body?.cancel();
  if (!response.ok) throw new Error(`webhook: HTTP ${response.status}`);
}

async function record(ctx: HandlerContext, event: BusEvent, automationId: string, status: string, done: number, error: string | null) {
  await ctx.sql`
    insert into automation_runs (automation_id, event_id, store_id, status, reactions_done, error_message)
    values (${automationId}::uuid, ${event.id}::uuid, ${event.tenantId}::uuid, ${status}, ${done}, ${error})
    on conflict (automation_id, event_id) do update
      set status = excluded.status, reactions_done = excluded.reactions_done, error_message = excluded.error_message, updated_at = now()`;
}
