/**
 * Rebuilds an aggregate's state from its stream: from the latest snapshot, fold the events
 * after it, and store a new snapshot once `snapshotEvery` events have been folded, so a
 * long history is read once and then only its tail.
 */
import type { Sql } from "../types.ts";
import { readStream, type StreamEvent } from "./stream.ts";

export interface Reducer<S> {
  initial: S;
  apply(state: S, event: StreamEvent): S;
}

export interface Rebuilt<S> {
  state: S;
  version: number;
  /** Events read from the stream (after the snapshot it started from). */
  eventsRead: number;
  fromSnapshot: number;
}

export async function rebuild<S>(sql: Sql, aggregateType: string, aggregateId: string, reducer: Reducer<S>, snapshotEvery = 50): Promise<Rebuilt<S>> {
  const [snapshot] = await sql<{ version: number; state: S }[]>`
    select version, state from feyxa.aggregate_snapshots
    where aggregate_type = ${aggregateType} and aggregate_id = ${aggregateId}::uuid
    order by version desc limit 1`;
  const fromSnapshot = snapshot?.version ?? 0;
  const events = await readStream(sql, aggregateType, aggregateId, fromSnapshot);
  const state = events.reduce(reducer.apply, snapshot ? snapshot.state : reducer.initial);
  const version = events.at(-1)?.version ?? fromSnapshot;
  if (version - fromSnapshot >= snapshotEvery) {
    await sql`insert into feyxa.aggregate_snapshots (aggregate_type, aggregate_id, version, state)
              values (${aggregateType}, ${aggregateId}::uuid, ${version}, ${sql.json(state as never)})
              on conflict do nothing`;
  }
  return { state, version, eventsRead: events.length, fromSnapshot };
}
