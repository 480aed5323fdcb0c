/**
 * A story, as the caller may see it (RLS applies): every event that a search term leads to,
 * with the events of their stories, every handler run and webhook delivery of those, in
 * time order, and which run emitted which event (causation_id, causation_handler).
 *
 * The term names its first events ("seeds"): an event id, an aggregate id or a correlation
 * id (the primary key, events_log_aggregate_idx, events_log_correlation_idx), or whatever
 * the application's hook names in its own words (feyxa.story_seeds: the marketplace's order
 * numbers). Each seed's story is its correlation (or itself, for a root), and the story's
 * events are its root by primary key and the rest by the correlation index: no read of the
 * log grows with the log.
 */
import type { EventStatus, HandlerRunStatus } from "../../vocabulary.ts";
import type { CallerSql } from "../as-caller.ts";
import type { Built, storyAnswer } from "./answers.ts";

/** The most events a story answers (the oldest first); beyond, `truncated`. */
export const STORY_LIMIT = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function story(tx: CallerSql, term: string): Promise<Built<typeof storyAnswer>> {
  const asId = UUID.test(term) ? term : null;
  // The seeds' roots: each seed's story's first event.
  const roots = (await tx<{ root: string }[]>`
    with seeds as (
      select id from feyxa.events_log
      where ${asId}::uuid is not null and (id = ${asId}::uuid or aggregate_id = ${asId}::uuid or correlation_id = ${asId}::uuid)
      union
      select s from feyxa.story_seeds(${term}) s
      limit ${STORY_LIMIT}
    )
    select distinct coalesce(e.correlation_id, e.id) as root
    from feyxa.events_log e join seeds s on s.id = e.id`).map((r) => r.root);
  const events = roots.length === 0 ? [] : await tx<StoryEventRow[]>`
    select e.id, e.event_type, e.aggregate_type, e.aggregate_id, e.tenant_id, e.status, e.attempt, e.error_message,
           e.created_at, e.processed_at, e.causation_id, e.causation_handler, e.correlation_id,
           (select feyxa.waiting_reason(e.status, e.attempt, q.held, q.due_at, q.not_before) from feyxa.event_queue q where q.event_id = e.id) as waiting
    from feyxa.events_log e
    where e.id = any(${roots}::uuid[]) or e.correlation_id = any(${roots}::uuid[])
    order by e.created_at, e.id
    limit ${STORY_LIMIT + 1}`;
  const shown = events.slice(0, STORY_LIMIT);
  const ids = shown.map((e) => e.id);
  const runs = ids.length === 0 ? [] : await tx<StoryRunRow[]>`
    select event_id, handler_name, attempt, status, duration_ms, error_message, created_at
    from feyxa.event_handlers_log where event_id = any(${ids}::uuid[])
    order by created_at, event_id, handler_name`;
  const deliveries = ids.length === 0 ? [] : await tx<StoryDeliveryRow[]>`
    select event_id, handler_name, attempt, status_code, response_excerpt, duration_ms, created_at
    from feyxa.webhook_deliveries where event_id = any(${ids}::uuid[])
    order by created_at`;
  return { term, roots, events: shown, runs, deliveries, truncated: events.length > STORY_LIMIT };
}

interface StoryEventRow {
  id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  tenant_id: string | null;
  status: EventStatus;
  attempt: number;
  error_message: string | null;
  created_at: Date;
  processed_at: Date | null;
  causation_id: string | null;
  causation_handler: string | null;
  correlation_id: string | null;
  waiting: Built<typeof storyAnswer>["events"][number]["waiting"];
}

interface StoryRunRow {
  event_id: string;
  handler_name: string;
  attempt: number;
  status: HandlerRunStatus;
  duration_ms: number;
  error_message: string | null;
  created_at: Date;
}

interface StoryDeliveryRow {
  event_id: string;
  handler_name: string;
  attempt: number;
  status_code: number | null;
  response_excerpt: string | null;
  duration_ms: number;
  created_at: Date;
}
