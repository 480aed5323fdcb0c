-- Event-sourced history, for aggregates that opt in: a per-aggregate stream with a version,
-- so that two writers cannot both append after the same version; a checksum of each stored
-- payload, so tampering is found; snapshots, so that rebuilding a long history stays fast.
-- The events themselves stay in events_log (emitted through emit_event_report, routed and
-- retried like any other); the stream orders and guards them, and the retention purge
-- leaves a stream's events alone: they are history (retention.sql). The TypeScript side is
-- src/bus/history/ (appendToStream, readStream, rebuild).

create table feyxa.aggregate_streams (
  aggregate_type text not null,
  aggregate_id uuid not null,
  version int default 0 not null check (version >= 0),
  updated_at timestamptz default now() not null,
  constraint aggregate_streams_pkey primary key (aggregate_type, aggregate_id)
);
alter table feyxa.aggregate_streams enable row level security;
comment on table feyxa.aggregate_streams is 'The current version of each event-sourced aggregate.';
grant all on table feyxa.aggregate_streams to service_role;

create table feyxa.aggregate_stream_events (
  aggregate_type text not null,
  aggregate_id uuid not null,
  version int not null check (version >= 1),
  event_id uuid not null references feyxa.events_log(id) unique,
  -- payload_checksum() of the payload as appended
  checksum text not null,
  created_at timestamptz default now() not null,
  constraint aggregate_stream_events_pkey primary key (aggregate_type, aggregate_id, version)
);
alter table feyxa.aggregate_stream_events enable row level security;
comment on table feyxa.aggregate_stream_events is 'Each event of a stream, by version, with the SHA-256 of its payload as stored.';
grant all on table feyxa.aggregate_stream_events to service_role;
grant select on table feyxa.aggregate_stream_events to authenticated;

create table feyxa.aggregate_snapshots (
  aggregate_type text not null,
  aggregate_id uuid not null,
  version int not null,
  state jsonb not null,
  created_at timestamptz default now() not null,
  constraint aggregate_snapshots_pkey primary key (aggregate_type, aggregate_id, version)
);
alter table feyxa.aggregate_snapshots enable row level security;
comment on table feyxa.aggregate_snapshots is 'The state of an aggregate as of a version, so that a rebuild reads only the events after it.';
grant all on table feyxa.aggregate_snapshots to service_role;

-- Over jsonb's text form, which is canonical (one spelling per value: keys in jsonb's order,
-- no duplicate keys, fixed blanks), so equal payloads have equal checksums however written.
create or replace function feyxa.payload_checksum(p_payload jsonb)
returns text
language sql immutable parallel safe
set search_path = feyxa, pg_catalog
as $$
  select encode(sha256(convert_to(p_payload::text, 'UTF8')), 'hex')
$$;
comment on function feyxa.payload_checksum(jsonb) is 'SHA-256 (hex) of a payload in jsonb''s canonical text form.';
revoke all on function feyxa.payload_checksum(jsonb) from public;
grant execute on function feyxa.payload_checksum(jsonb) to service_role;

-- Appends an event to an aggregate's stream. With p_expected_version, the append succeeds
-- only if the stream is at that version (optimistic concurrency): the loser of two
-- concurrent writers gets 55000 "expected version …", answered 409 over HTTP. A repeated
-- idempotency key returns the event already appended, at its version; a key already used
-- by an event outside the stream is refused. Without a key, the event's is
-- <aggregate_type>:<aggregate_id>:v<version>.
create or replace function feyxa.append_to_stream(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid, p_payload jsonb,
  p_expected_version int default null, p_idempotency_key text default null)
returns table(event_id uuid, version int, inserted boolean)
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_current int;
  v_report  record;
begin
  insert into aggregate_streams (aggregate_type, aggregate_id) values (p_aggregate_type, p_aggregate_id)
  on conflict do nothing;
  select s.version into v_current from aggregate_streams s
  where s.aggregate_type = p_aggregate_type and s.aggregate_id = p_aggregate_id for update;

  if p_idempotency_key is not null then
    select e.event_id, e.version into event_id, version
    from aggregate_stream_events e join events_log l on l.id = e.event_id
    where l.idempotency_key = p_idempotency_key;
    if found then
      inserted := false;
      return next;
      return;
    end if;
  end if;
  if p_expected_version is not null and p_expected_version <> v_current then
    raise exception using errcode = '55000',
      message = format('expected version %s of %s %s, but it is at version %s: reload and try again', p_expected_version, p_aggregate_type, p_aggregate_id, v_current),
      detail = 'expected_version';
  end if;

  select * into v_report from emit_event_report(p_event_type, p_aggregate_type, p_aggregate_id, p_tenant_id, p_payload,
                                                coalesce(p_idempotency_key, p_aggregate_type || ':' || p_aggregate_id || ':v' || (v_current + 1)));
  if not v_report.inserted then
    raise exception using errcode = '55000', message = 'this event already exists outside the stream', detail = 'idempotency_key';
  end if;
  update aggregate_streams s set version = v_current + 1, updated_at = now()
  where s.aggregate_type = p_aggregate_type and s.aggregate_id = p_aggregate_id;
  insert into aggregate_stream_events (aggregate_type, aggregate_id, version, event_id, checksum)
  values (p_aggregate_type, p_aggregate_id, v_current + 1, v_report.event_id, payload_checksum(p_payload));
  event_id := v_report.event_id;
  version := v_current + 1;
  inserted := true;
  return next;
end;
$$;
comment on function feyxa.append_to_stream(text,text,uuid,uuid,jsonb,integer,text) is 'Emits an event onto an aggregate''s versioned stream; with an expected version, fails (55000) when another writer got there first.';
revoke all on function feyxa.append_to_stream(text,text,uuid,uuid,jsonb,integer,text) from public;
grant execute on function feyxa.append_to_stream(text,text,uuid,uuid,jsonb,integer,text) to service_role;

-- Every stream event whose stored payload no longer matches the checksum taken when it was appended.
create or replace function feyxa.verify_stream_checksums(p_aggregate_type text default null)
returns table(event_id uuid, aggregate_type text, aggregate_id uuid, version integer, expected text, actual text)
language sql stable security definer
set search_path = feyxa, pg_catalog
as $$
  select s.event_id, s.aggregate_type, s.aggregate_id, s.version, s.checksum, payload_checksum(l.payload)
  from aggregate_stream_events s join events_log l on l.id = s.event_id
  where (p_aggregate_type is null or s.aggregate_type = p_aggregate_type)
    and s.checksum <> payload_checksum(l.payload)
  order by s.aggregate_type, s.aggregate_id, s.version
$$;
comment on function feyxa.verify_stream_checksums(text) is 'Reports every stream event whose payload no longer matches its checksum (tampering or corruption).';
revoke all on function feyxa.verify_stream_checksums(text) from public;
grant execute on function feyxa.verify_stream_checksums(text) to service_role;
