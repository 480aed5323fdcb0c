/**
 * The operator's actions and who the operator is. Each action is one of the bus's
 * operator verbs (src/bus/operator.ts), called as the caller: the transition function
 * checks for an admin, writes the audit row and moves the events in one transaction.
 */
import { cancelEvent, discardEvent, redriveDead, replayEvent, retryEvent } from "../../operator.ts";
import type { CallerSql } from "../as-caller.ts";
import type { actionResult, actionsAnswer, Built, meAnswer } from "./answers.ts";
import type { ActionInput } from "./schemas.ts";

export function runAction(tx: CallerSql, input: ActionInput): Promise<Built<typeof actionResult>> {
  const actionId = input.action_id;
  switch (input.kind) {
    case "retry":
      return retryEvent(tx, input.event_id, { actionId });
    case "redrive":
      return redriveDead(tx, input.event_type, { actionId, error: input.error });
    case "replay":
      return replayEvent(tx, input.event_id, input.handler_name, { actionId, includeOwed: input.include_owed });
    case "discard":
      return discardEvent(tx, input.event_id, input.reason, { actionId });
    case "cancel":
      return cancelEvent(tx, input.event_id, input.reason, { actionId });
  }
}

/**
 * The audit trail, newest first (admins only, by policy: others get an empty list). A bulk
 * action's batch is one row, with the number of events it acted on (each has its own row).
 */
export async function recentActions(tx: CallerSql, limit = 50): Promise<Built<typeof actionsAnswer>["actions"]> {
  return await tx<Built<typeof actionsAnswer>["actions"]>`
    select a.id, a.actor_id, a.actor_email, a.kind, a.target, a.result, a.created_at,
           (select count(*)::int from feyxa.monitor_actions c where c.parent_id = a.id) as events
    from feyxa.monitor_actions a where a.parent_id is null order by a.created_at desc limit ${limit}`;
}

/**
 * Who is asking, whether they may act, and the tenants they may filter by, labelled: the
 * application's answers to the bus's read hooks (reader_is_operator, reader_tenant_labels).
 */
export async function whoAmI(tx: CallerSql): Promise<Built<typeof meAnswer>> {
  const [me] = await tx<{ user_id: string; email: string | null; is_admin: boolean }[]>`
    select auth.uid() as user_id, auth.jwt() ->> 'email' as email, feyxa.reader_is_operator() as is_admin`;
  const tenants = await tx<{ id: string; name: string | null; slug: string | null }[]>`
    select id, name, slug from feyxa.reader_tenant_labels()`;
  return { ...me, tenants };
}
