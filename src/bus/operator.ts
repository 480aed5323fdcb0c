/**
 * The operator's verbs as library calls: retry, re-drive, replay, discard, cancel. Each is one
 * call of the bus's transition function of the same name
 * (supabase/schemas/bus/operator.sql), which moves
 * events_log and event_queue together and writes the audit row, in one transaction.
 *
 * Every verb takes an action id: the same id again changes nothing and answers the first
 * result (`duplicate: true`), so a caller that retries after a lost answer acts once.
 * Leave it out for a fresh one. Called with the server's connection the verbs just act;
 * called inside a transaction running as an API user (the monitor does that) the
 * database refuses anyone but an admin (42501).
 */
import type { Queryable } from "./types.ts";
import type { EventStatus, OperatorAction } from "./vocabulary.ts";

/** What every verb answers: whether it moved anything, and the action it was. */
export interface OperatorResult {
  action_id: string;
  kind: OperatorAction;
  changed: boolean;
  /** True when this action id was used before: the result is that first one's. */
  duplicate: boolean;
  /** The event's status after the action (single-event verbs). */
  status?: EventStatus;
  previous_status?: EventStatus;
  /** redrive: how many dead events moved, and how many still match. */
  redriven?: number;
  remaining?: number;
  /** replay: the handlers the next attempt runs. */
  will_run?: string[];
}

interface ActionId {
  /** The idempotency key of the action; a fresh one when absent. */
  actionId?: string;
}

const idOf = (options: ActionId) => options.actionId ?? crypto.randomUUID();

async function one(rows: Promise<{ result: OperatorResult }[]>): Promise<OperatorResult> {
  return (await rows)[0].result;
}

/** A failed or dead event gets one more attempt, now; the handlers that succeeded are skipped. */
export function retryEvent(sql: Queryable, eventId: string, options: ActionId = {}): Promise<OperatorResult> {
  return one(sql`select feyxa.retry_event(${idOf(options)}::uuid, ${eventId}::uuid) as result`);
}

export interface RedriveOptions extends ActionId {
  /** Only the dead events whose error is exactly this (a row of the dead-letter table). */
  error?: string | null;
  /** At most this many per call (1 to 100,000; 10,000 by default): call again while `remaining` > 0. */
  limit?: number;
}

/** The dead events of a type (optionally of one error) get one more attempt, now. */
export function redriveDead(sql: Queryable, eventType: string, options: RedriveOptions = {}): Promise<OperatorResult> {
  return one(sql`select feyxa.redrive_dead(${idOf(options)}::uuid, ${eventType}, ${options.error ?? null},
                                     ${options.limit ?? 10_000}::int) as result`);
}

export interface ReplayOptions extends ActionId {
  /** Also run the other handlers the event still owes (an attempt cannot run fewer); refused otherwise. */
  includeOwed?: boolean;
}

/** A completed event runs again for a handler subscribed since; no handler that succeeded runs twice. */
export function replayEvent(sql: Queryable, eventId: string, handlerName: string, options: ReplayOptions = {}): Promise<OperatorResult> {
  return one(sql`select feyxa.replay_event(${idOf(options)}::uuid, ${eventId}::uuid, ${handlerName},
                                     ${options.includeOwed ?? false}) as result`);
}

/** A pending, failed or dead event is set aside for good (status discarded), with the reason why. */
export function discardEvent(sql: Queryable, eventId: string, reason: string, options: ActionId = {}): Promise<OperatorResult> {
  return one(sql`select feyxa.discard_event(${idOf(options)}::uuid, ${eventId}::uuid, ${reason}) as result`);
}

/** A pending event (scheduled, held in its line, or due) will never run: status cancelled, with the reason why. */
export function cancelEvent(sql: Queryable, eventId: string, reason: string, options: ActionId = {}): Promise<OperatorResult> {
  return one(sql`select feyxa.cancel_event(${idOf(options)}::uuid, ${eventId}::uuid, ${reason}) as result`);
}
