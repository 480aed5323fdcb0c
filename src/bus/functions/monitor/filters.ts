/**
 * The WHERE fragments of the monitor's reads, one per filter, each matching an index:
 * a type prefix is a LIKE with a constant prefix (events_log_type_created_idx, built with
 * text_pattern_ops), open statuses event_queue, a tenant the tenant index, a search the
 * primary key, aggregate and idempotency-key indexes.
 */
import type { Fragment } from "postgres";
import type { CallerSql } from "./as-caller.ts";
import { type ListQuery, OFF_THE_QUEUE, type Scope } from "./schemas.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const escapeLike = (text: string) => text.replace(/[\\%_]/g, "\\$&");

/** Type and tenant: the filters the list and the stats share. `alias` names events_log in the query. */
export function scopeWhere(tx: CallerSql, scope: Scope, alias = "events_log"): Fragment {
  const column = (name: string) => tx(`${alias}.${name}`);
  const parts: Fragment[] = [];
  if (scope.type?.endsWith(".*")) parts.push(tx`${column("event_type")} like ${escapeLike(scope.type.slice(0, -1)) + "%"}`);
  else if (scope.type) parts.push(tx`${column("event_type")} = ${scope.type}`);
  if (scope.tenant) parts.push(tx`${column("tenant_id")} = ${scope.tenant}::uuid`);
  return and(tx, parts);
}

export function listWhere(tx: CallerSql, query: ListQuery, cursor: Cursor | undefined): Fragment {
  const parts: Fragment[] = [scopeWhere(tx, query)];
  if (query.status?.length) parts.push(tx`status = any(${query.status}::text[])`);
  // Open statuses only (no 'completed' nor 'discarded'): the events are among event_queue's
  // few rows, rather than anywhere in the log (events_log has no index on status: see its table).
  if (query.status?.length && !query.status.some((s) => OFF_THE_QUEUE.includes(s))) {
    parts.push(tx`id in (select event_id from feyxa.event_queue)`);
  }
  // `::text::timestamptz`, never `::timestamptz` alone: for a timestamptz parameter the
  // client turns the string into a JavaScript Date, which keeps milliseconds only, and a
  // cursor a few microseconds off skips rows.
  if (query.from) parts.push(tx`created_at >= ${query.from}::text::timestamptz`);
  if (query.to) parts.push(tx`created_at < ${query.to}::text::timestamptz`);
  if (query.q && UUID.test(query.q)) {
    parts.push(tx`(id = ${query.q}::uuid or aggregate_id = ${query.q}::uuid or idempotency_key = ${query.q})`);
  } else if (query.q) {
    parts.push(tx`idempotency_key = ${query.q}`);
  }
  // Keyset pagination: rows strictly after the last one shown, in (created_at, id) order.
  if (cursor) parts.push(tx`(created_at, id) < (${cursor.at}::text::timestamptz, ${cursor.id}::uuid)`);
  return and(tx, parts);
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
