/**
 * The operator's actions and who the operator is. Each action is one call of its SQL
 * function (supabase/migrations/…_monitor_actions.sql), made as the caller: the function
 * checks for an admin, writes the audit row and moves the events in one transaction.
 */
import type { CallerSql } from "./as-caller.ts";
import type { ActionInput } from "./schemas.ts";

export async function runAction(tx: CallerSql, input: ActionInput): Promise<Record<string, unknown>> {
  const id = input.action_id;
  const [row] = await (() => {
    switch (input.kind) {
      case "retry":
        return tx<{ result: Record<string, unknown> }[]>`select feyxa.monitor_retry_event(${id}::uuid, ${input.event_id}::uuid) as result`;
      case "redrive":
        return tx<{ result: Record<string, unknown> }[]>`
          select feyxa.monitor_redrive_dead(${id}::uuid, ${input.event_type}, ${input.error ?? null}) as result`;
      case "replay":
        return tx<{ result: Record<string, unknown> }[]>`
          select feyxa.monitor_replay_event(${id}::uuid, ${input.event_id}::uuid, ${input.handler_name}, ${input.include_owed}) as result`;
    }
  })();
  return row.result;
}

/** The audit trail, newest first (admins only, by policy: others get an empty list). */
export async function recentActions(tx: CallerSql, limit = 50) {
  return await tx`
    select id, actor_id, actor_email, kind, target, result, created_at
    from feyxa.monitor_actions order by created_at desc limit ${limit}`;
}

/** Who is asking, whether they may act, and the stores they may filter by. */
export async function whoAmI(tx: CallerSql) {
  const [me] = await tx<{ user_id: string; email: string | null; is_admin: boolean }[]>`
    select auth.uid() as user_id, auth.jwt() ->> 'email' as email, is_marketplace_admin() as is_admin`;
  const stores = await tx<{ id: string; name: string; slug: string }[]>`
    select s.id, s.name, s.slug from stores s
    where ${me.is_admin} or s.id in (select m.store_id from store_members m where m.user_id = auth.uid())
    order by s.name limit 500`;
  return { ...me, stores };
}
