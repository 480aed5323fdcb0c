/**
 * Failures grouped by what went wrong: the failed and dead events (all in event_queue, so
 * never a scan of the log) by the fingerprint of their error (feyxa.error_fingerprint:
 * ids, numbers and quoted values stripped), with how many, since when, and a sample. The
 * page re-drives or retries a group by filtering the list on its fingerprint.
 */
import { FAILING_STATUSES } from "../../vocabulary.ts";
import type { CallerSql } from "../as-caller.ts";
import type { Built, failuresAnswer } from "./answers.ts";
import { scopeWhere } from "./filters.ts";
import type { Scope } from "./schemas.ts";

type Failures = Built<typeof failuresAnswer>;

export async function failureGroups(tx: CallerSql, scope: Scope): Promise<Failures> {
  const groups = await tx<Failures["groups"]>`
    select feyxa.error_fingerprint(e.error_message) as fingerprint,
           array_agg(distinct e.event_type order by e.event_type) as event_types,
           count(*) filter (where e.status = 'failed')::int as failed,
           count(*) filter (where e.status = 'dead')::int as dead,
           min(e.updated_at) as first_at, max(e.updated_at) as last_at,
           (array_agg(e.error_message order by e.updated_at desc))[1] as sample_error,
           (array_agg(e.id order by e.updated_at desc))[1] as sample_event_id
    from feyxa.event_queue q join feyxa.events_log e on e.id = q.event_id
    where e.status in ${tx(FAILING_STATUSES)} and ${scopeWhere(tx, scope, "e")}
    group by 1 order by count(*) desc, max(e.updated_at) desc limit 100`;
  return { groups };
}
