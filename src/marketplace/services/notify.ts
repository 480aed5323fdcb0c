import type { HandlerContext } from "../../bus/index.ts";

export interface Notification {
  storeId: string | null;
  userId?: string | null;
  kind: string;
  title: string;
  body: string;
  data?: Record<string, unknown>;
}

/** An in-app notification, written once per handler run (dedupe_key = the handler's idempotency key). */
export async function notify({ sql, idempotencyKey }: HandlerContext, n: Notification): Promise<void> {
  await sql`
    insert into notifications (store_id, user_id, kind, title, body, data, dedupe_key)
    values (${n.storeId}::uuid, ${n.userId ?? null}::uuid, ${n.kind}, ${n.title.slice(0, 300)}, ${n.body.slice(0, 2000)},
            ${sql.json((n.data ?? {}) as never)}, ${idempotencyKey})
    on conflict (dedupe_key) do nothing`;
}
