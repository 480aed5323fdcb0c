/**
 * Actions over the list's current filter: retry, re-drive or discard every event it shows
 * that the action applies to. The events are picked with the list's own WHERE (as the
 * caller, under RLS, from the same indexes), newest first, a batch at a time; each batch
 * is one call of feyxa.bulk_<kind>, which runs the single-event transition on each and
 * audits the batch. The preview counts what the first call would start on.
 */
import { HttpError } from "../../errors.ts";
import type { EventStatus } from "../../vocabulary.ts";
import type { CallerSql } from "../as-caller.ts";
import type { Built, bulkPreviewAnswer, bulkResult } from "./answers.ts";
import { decodeCursor, encodeCursor, listWhere, readByIndexes } from "./filters.ts";
import { BULK_KINDS, type BulkFilter, type BulkInput, type BulkKind, type BulkPreviewQuery } from "./schemas.ts";

/** Events per call: small enough that one transaction holds few locks and answers fast. */
export const BULK_BATCH = 200;
/** Where the preview stops counting (it says "at least"). */
const PREVIEW_CAP = 100_000;

/** The filter narrowed to the statuses the action applies to; null when none is left. */
function eligible(filter: BulkFilter, kind: BulkKind): (BulkFilter & { status: EventStatus[]; limit: number }) | null {
  const allowed: readonly EventStatus[] = BULK_KINDS[kind];
  const status = filter.status?.length ? filter.status.filter((s) => allowed.includes(s)) : [...allowed];
  return status.length ? { ...filter, status, limit: BULK_BATCH } : null;
}

export async function previewBulk(tx: CallerSql, query: BulkPreviewQuery): Promise<Built<typeof bulkPreviewAnswer>> {
  const { kind, ...filter } = query;
  const scope = eligible(filter, kind);
  if (!scope) return { kind, count: 0, capped: false, statuses: [] };
  await readByIndexes(tx);
  const [{ count }] = await tx<{ count: number }[]>`
    select count(*)::int as count from (
      select 1 from feyxa.events_log where ${listWhere(tx, scope, undefined)} limit ${PREVIEW_CAP}) matched`;
  return { kind, count, capped: count >= PREVIEW_CAP, statuses: scope.status, batch: BULK_BATCH };
}

type BulkResult = Built<typeof bulkResult>;

export async function runBulk(tx: CallerSql, input: BulkInput): Promise<BulkResult> {
  const cursor = input.cursor ? decodeCursor(input.cursor) : undefined;
  if (input.cursor && !cursor) throw new HttpError(400, "invalid_request", "cursor: not a cursor this function made", "cursor");
  // Refused before anything is read: an operator who sees nothing matching, and someone
  // who may not act at all, are different answers.
  const [{ operator }] = await tx<{ operator: boolean }[]>`select feyxa.reader_is_operator() as operator`;
  if (!operator) throw new HttpError(403, "forbidden", "only operators can act on events");
  const scope = eligible(input.filter, input.kind);
  const nothing: BulkResult = { action_id: input.action_id, kind: `bulk_${input.kind}`, changed: false, duplicate: false, moved: 0, unchanged: 0, skipped: 0, next_cursor: null };
  if (!scope) return nothing;
  await readByIndexes(tx);
  const rows = await tx<{ id: string; at: string }[]>`
    select id, created_at::text as at from feyxa.events_log
    where ${listWhere(tx, scope, cursor)}
    order by created_at desc, id desc limit ${BULK_BATCH}`;
  if (rows.length === 0) {
    // Nothing left to pick: a request sent again after it acted still answers what it did.
    const [done] = await tx<{ result: BulkResult }[]>`
      select result || '{"duplicate": true}' as result from feyxa.monitor_actions where id = ${input.action_id}::uuid and result is not null`;
    return done?.result ?? nothing;
  }
  const last = rows.at(-1)!;
  const next = rows.length === BULK_BATCH ? encodeCursor({ at: last.at, id: last.id }) : null;
  const ids = rows.map((r) => r.id);
  const filter = input.filter;
  const [{ result }] = input.kind === "discard"
    ? await tx`select feyxa.bulk_discard(${input.action_id}::uuid, ${tx.json(filter)}, ${ids}::uuid[], ${input.cursor ?? null},
                                         ${next}, ${input.reason!}) as result`
    : input.kind === "redrive"
    ? await tx`select feyxa.bulk_redrive(${input.action_id}::uuid, ${tx.json(filter)}, ${ids}::uuid[], ${input.cursor ?? null}, ${next}) as result`
    : await tx`select feyxa.bulk_retry(${input.action_id}::uuid, ${tx.json(filter)}, ${ids}::uuid[], ${input.cursor ?? null}, ${next}) as result`;
  return result as BulkResult;
}
