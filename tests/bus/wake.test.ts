/**
 * The HTTP wake-up through pg_net. pg_net is not in the embedded PostgreSQL, so this test
 * installs a stand-in with pg_net's interface (net.http_post queueing into
 * net.http_request_queue, which pg_net's background worker would then send) and checks
 * what emit_event asks of it: one request per transaction at most, none while one is queued.
 */
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";
import { uuid } from "../support/bus.ts";

const { sql } = await useDatabase();

await sql.unsafe(`
  create schema net;
  create table net.http_request_queue (id bigserial primary key, url text, body jsonb, headers jsonb);
  create function net.http_post(url text, body jsonb, headers jsonb, timeout_milliseconds int) returns bigint
  language sql as $$ insert into net.http_request_queue (url, body, headers) values (url, body, headers) returning id $$;
`);
const queued = () => sql<{ url: string; body: { event_id: string; drain: boolean } }[]>`select url, body from net.http_request_queue order by id`;

describe("the pg_net wake-up", () => {
  it("sends nothing while no functions URL is configured", async () => {
    await sql`select feyxa.emit_event('wake.none', 'order', ${uuid()}::uuid, null, '{}'::jsonb)`;
    expect(await queued()).toHaveLength(0);
  });

  it("coalesces: one request per transaction, none while one is still queued", async () => {
    await sql`update feyxa.event_bus_settings set functions_url = 'https://example.supabase.co/functions/v1/'`;
    const ids = await sql.begin(async (tx) => {
      const out: string[] = [];
      for (let i = 0; i < 20; i++) out.push((await tx`select feyxa.emit_event('wake.many', 'order', ${uuid()}::uuid, null, '{}'::jsonb) as id`)[0].id);
      return out;
    });
    let requests = await queued();
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe("https://example.supabase.co/functions/v1/process-event");
    expect(requests[0].body).toEqual({ event_id: ids[0], drain: true });

    for (let i = 0; i < 10; i++) await sql`select feyxa.emit_event('wake.more', 'order', ${uuid()}::uuid, null, '{}'::jsonb)`;
    expect(await queued()).toHaveLength(1); // the queued one will drain these too

    await sql`delete from net.http_request_queue`; // pg_net sent it
    await sql`select feyxa.emit_event('wake.later', 'order', ${uuid()}::uuid, null, '{}'::jsonb)`;
    requests = await queued();
    expect(requests).toHaveLength(1);
  });

  it("does not take a request pg_net is sending (deleted by its worker's open transaction) for one still queued", async () => {
    await sql`delete from net.http_request_queue`;
    await sql`select feyxa.emit_event('wake.sending', 'order', ${uuid()}::uuid, null, '{}'::jsonb)`;
    // pg_net's worker deletes the batch it sends and commits once every response is in.
    let taken!: () => void;
    let answered!: () => void;
    const isTaken = new Promise<void>((resolve) => (taken = resolve));
    const isAnswered = new Promise<void>((resolve) => (answered = resolve));
    const worker = sql.begin(async (tx) => {
      await tx`delete from net.http_request_queue`;
      taken();
      await isAnswered;
    });
    await isTaken;
    await sql`select feyxa.emit_event('wake.meanwhile', 'order', ${uuid()}::uuid, null, '{}'::jsonb)`;
    answered();
    await worker;
    const requests = await queued();
    expect(requests).toHaveLength(1); // the wake-up for the event emitted while the other was in flight
  });

  it("never fails the emit when the wake-up fails", async () => {
    await sql.unsafe(`create or replace function net.http_post(url text, body jsonb, headers jsonb, timeout_milliseconds int) returns bigint
                      language plpgsql as $$ begin raise exception 'pg_net is down'; end $$`);
    await sql`delete from net.http_request_queue`;
    const [{ id }] = await sql`select feyxa.emit_event('wake.down', 'order', ${uuid()}::uuid, null, '{}'::jsonb) as id`;
    const [row] = await sql`select status from feyxa.events_log where id = ${id}::uuid`;
    expect(row.status).toBe("pending");
  });
});
