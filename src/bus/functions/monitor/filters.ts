/**
 * The WHERE fragments of the monitor's reads, one per filter, each matching an index:
 * a type prefix is a LIKE with a constant prefix (events_log_type_created_idx, built with
 * text_pattern_ops), open statuses event_queue, a tenant the tenant index, a search the
 * primary key, aggregate and idempotency-key indexes.
 */
import type { Fragment } from "postgres";
import { type EventStatus, FAILING_STATUSES, OFF_QUEUE_STATUSES } from "../../vocabulary.ts";
import type { CallerSql } from "../as-caller.ts";
import type { ListQuery, Scope } from "./schemas.ts";

const offQueue: ReadonlySet<EventStatus> = new Set(OFF_QUEUE_STATUSES);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const escapeLike = (text: string) => text.replace(/[\\%_]/g, "\\$&");

/**
 * For the rest of the monitor's transaction: read by indexes, and compile nothing. A page of
 * the newest rows walks an index newest-first, and open events are found from the queue by
 * primary key; the planner cannot see that here: the RLS policy's "operator OR one of my
 * tenants" makes it guess few rows match, and then a scan of the log looks cheaper
 * (tests/bus/functions/event-monitor-plans.test.ts). With scans priced out, every plan
 * looks expensive enough for JIT, which on a server built with LLVM (Debian's 15) would
 * compile statements that run in milliseconds: 225 ms of a 400 ms stats call at a million
 * events (`BENCH_ONLY=monitor`, docs/performance.md).
 */
export const readByIndexes = (tx: CallerSql) => tx`select set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)`;

/** Type and tenant: the filters the list and the stats share. `alias` names events_log in the query. */
export function scopeWhere(tx: CallerSql, scope: Scope, alias = "events_log"): Fragment {
  const column = (name: string) => tx(`${alias}.${name}`);
  const parts: Fragment[] = [];
  // Always a prefix (`order` finds order.created): the operator types the start of what they see.
  if (scope.type) parts.push(tx`${column("event_type")} like ${escapeLike(scope.type.replace(/\*$/, "")) + "%"}`);
  if (scope.tenant) parts.push(tx`${column("tenant_id")} = ${scope.tenant}::uuid`);
  return and(tx, parts);
}

export function listWhere(tx: CallerSql, query: ListQuery, cursor: Cursor | undefined): Fragment {
  const parts: Fragment[] = [scopeWhere(tx, query)];
  if (query.status?.length) parts.push(tx`status = any(${query.status}::text[])`);
  // Open statuses only (none of OFF_QUEUE_STATUSES): the events are among event_queue's
  // few rows, rather than anywhere in the log (events_log has no index on status: see its table).
  // A fingerprint is of a failed or dead event's error: those are in event_queue too.
  if ((query.status?.length && !query.status.some((s) => offQueue.has(s))) || query.fp) {
    parts.push(tx`id in (select event_id from feyxa.event_queue)`);
  }
  if (query.fp) parts.push(tx`status in ${tx(FAILING_STATUSES)} and feyxa.error_fingerprint(error_message) = ${query.fp}`);
  // Why they wait: read from event_queue's open events, each joined to its event by key.
  if (query.waiting?.length) {
    parts.push(tx`id in (select q.event_id from feyxa.event_queue q join feyxa.events_log w on w.id = q.event_id
                         where feyxa.waiting_reason(w.status, w.attempt, q.held, q.due_at, q.not_before) = any(${query.waiting}::text[]))`);
  }
  // `::text::timestamptz`, never `::timestamptz` alone: for a timestamptz parameter the
  // client turns the string into a JavaScript Date, which keeps milliseconds only, and a
  // cursor a few microseconds off skips rows.
  if (query.from) parts.push(tx`created_at >= ${query.from}::text::timestamptz`);
  if (query.to) parts.push(tx`created_at < ${query.to}::text::timestamptz`);
  const range = query.q ? idRange(query.q) : undefined;
  if (query.q && UUID.test(query.q)) {
    parts.push(tx`(id = ${query.q}::uuid or aggregate_id = ${query.q}::uuid or idempotency_key = ${query.q})`);
  } else if (query.q && range) {
    // The first characters of an id, as the list shows them: the ids between the prefix
    // padded with 0s and with fs (uuid order is the hex text's), read from the primary key
    // and the aggregate index.
    parts.push(tx`(id between ${range[0]}::uuid and ${range[1]}::uuid
                   or aggregate_id between ${range[0]}::uuid and ${range[1]}::uuid or idempotency_key = ${query.q})`);
  } else if (query.q) {
    parts.push(tx`idempotency_key = ${query.q}`);
  }
  // Keyset pagination: rows strictly after the last one shown, in (created_at, id) order.
  if (cursor) parts.push(tx`(created_at, id) < (${cursor.at}::text::timestamptz, ${cursor.id}::uuid)`);
  return and(tx, parts);
}

/** The uuids that start with `text` (4 to 31 hex digits, dashes anywhere), as [lowest, highest]; undefined for other text. */
export function idRange(text: string): [string, string] | undefined {
  const hex = text.toLowerCase().replace(/-/g, "");
  if (!/^[0-9a-f]{4,31}$/.test(hex)) return undefined;
  const asUuid = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  return [asUuid(hex.padEnd(32, "0")), asUuid(hex.padEnd(32, "f"))];
}

function and(tx: CallerSql, parts: Fragment[]): Fragment {
  return parts.reduce((all, part) => tx`${all} and ${part}`, tx`true`);
}

/** Where a page ends: the created_at (as Postgres prints it, to the microsecond) and id of its last row. */
export interface Cursor {
  at: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return btoa(JSON.stringify([cursor.at, cursor.id])).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(text: string): Cursor | undefined {
  try {
    const [at, id] = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/")));
    if (typeof at === "string" && /^[0-9 :.+-]{10,40}$/.test(at) && typeof id === "string" && UUID.test(id)) return { at, id };
  } catch {
    // fall through: not a cursor we made
  }
  return undefined;
}
