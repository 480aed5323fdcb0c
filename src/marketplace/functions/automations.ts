/**
 * automations: a store owner's automations. POST saves one (validated: trigger pattern,
 * filter, reactions; with an Idempotency-Key, a retried save saves one), GET ?store_id=
 * lists them with their last runs. Every statement runs as the signed-in caller, so RLS
 * decides: owners write, staff and admins read.
 */
import { z } from "zod";
import { asCaller, defineFunction, json, route, userOf } from "../../bus/functions/index.ts";
import { automationInput } from "../automations/schema.ts";

export const automations = defineFunction({
  name: "automations",
  auth: "user",
  note: "the function verifies user tokens itself (HS256 or the project's JWKS)",
  routes: [
    route("GET", {
      query: z.object({ store_id: z.uuid() }),
      handle: async ({ bus, caller, query: { store_id } }) => {
        const automations = await asCaller(bus.sql, userOf(caller), (tx) => tx`
          select a.id, a.name, a.trigger_kind, a.trigger_pattern, a.poll, a.last_polled_at, a.trigger_filter, a.reactions, a.is_active, a.created_at,
                 (select coalesce(jsonb_agg(r order by r.created_at desc), '[]') from (
                    select event_id, status, reactions_done, error_message, created_at from automation_runs
                    where automation_id = a.id order by created_at desc limit 5) r) as recent_runs
          from automations a where a.store_id = ${store_id}::uuid order by a.created_at`);
        return json({ automations });
      },
    }),
    route("POST", {
      body: automationInput, maxBytes: 32 * 1024,
      idempotent: true, // a retried save with its Idempotency-Key saves one automation
      handle: async ({ bus, caller, body: input }) => {
        const claims = userOf(caller);
        const [saved] = await asCaller(bus.sql, claims, (tx) => tx`
          insert into automations (store_id, name, trigger_kind, trigger_pattern, poll, trigger_filter, reactions, is_active, created_by)
          values (${input.store_id}::uuid, ${input.name}, ${input.trigger_kind}, ${input.trigger_pattern},
                  ${input.poll ? tx.json(input.poll as never) : null}, ${tx.json(input.trigger_filter as never)},
                  ${tx.json(input.reactions as never)}, ${input.is_active}, ${claims.sub}::uuid)
          returning id, name, trigger_kind, trigger_pattern, is_active`, { readOnly: false });
        return json(saved, 201);
      },
    }),
  ],
});
