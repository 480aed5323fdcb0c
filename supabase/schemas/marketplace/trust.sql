-- Trust and communication: support tickets and the agents they go to, in-app
-- notifications, the audit log and the email outbox.
--
-- A new ticket emits ticket.created (triggers.sql): trust.create_notification tells its
-- store and trust.auto_assign gives it to an agent. delivery.confirmed and payout.requested
-- are written to the audit log (trust.audit_log); notifications and emails are written by
-- the handlers of every engine (src/marketplace/services/notify.ts, services/email/).
-- Rows written by handlers carry a dedupe_key (the handler's idempotency key,
-- event_id:handler_name), unique, so a re-run writes nothing new.
--
-- Store staff read their store's rows, and a user their own notifications, through
-- access.sql's policies; support agents are the server's only. The function here is the
-- server's (revoked from public, anon and authenticated; service_role keeps the execute
-- Supabase grants it).

create table public.support_agents (
  user_id       uuid primary key references auth.users (id) on delete cascade,
  display_name  text not null check (length(display_name) between 1 and 120),
  is_active     boolean not null default true,
  created_at    timestamptz not null default now()
);
alter table public.support_agents enable row level security;
revoke all on table public.support_agents from anon, authenticated;

create table public.support_tickets (
  id                 uuid primary key default gen_random_uuid(),
  store_id           uuid references public.stores (id),
  order_id           uuid references public.orders (id),
  customer_email     text not null check (length(customer_email) between 3 and 254),
  subject            text not null check (length(subject) between 1 and 200),
  body               text not null default '' check (length(body) <= 10000),
  status             text not null default 'open' check (status in ('open', 'assigned', 'closed')),
  assigned_agent_id  uuid references public.support_agents (user_id),
  assigned_at        timestamptz,
  created_at         timestamptz not null default now()
);
alter table public.support_tickets enable row level security;
revoke all on table public.support_tickets from anon, authenticated;
grant select on table public.support_tickets to authenticated;

-- An agent's load: auto_assign_ticket counts each active agent's assigned tickets.
create index support_tickets_agent_open_idx on public.support_tickets (assigned_agent_id) where status = 'assigned';

-- For a store (store_id), a user (user_id), or both.
create table public.notifications (
  id          uuid primary key default gen_random_uuid(),
  store_id    uuid references public.stores (id),
  user_id     uuid references auth.users (id),
  kind        text not null,
  title       text not null,
  body        text not null default '',
  data        jsonb not null default '{}',
  dedupe_key  text not null unique,
  read_at     timestamptz,
  created_at  timestamptz not null default now()
);
alter table public.notifications enable row level security;
revoke all on table public.notifications from anon, authenticated;
grant select on table public.notifications to authenticated;

create index notifications_store_idx on public.notifications (store_id, created_at desc);

-- Who did what, append-only. event_id names the event that caused the row; when the
-- retention purge deletes that event, the row stays (set null).
create table public.audit_log (
  id           bigint generated always as identity primary key,
  event_id     uuid references feyxa.events_log (id) on delete set null,
  actor        text not null,
  action       text not null,
  entity_type  text not null,
  entity_id    uuid,
  store_id     uuid references public.stores (id),
  data         jsonb not null default '{}',
  dedupe_key   text not null unique,
  created_at   timestamptz not null default now()
);
alter table public.audit_log enable row level security;
revoke all on table public.audit_log from anon, authenticated;
grant select on table public.audit_log to authenticated;
-- nextval needs no grant for an identity column: the API roles need none on its sequence.
revoke all on sequence public.audit_log_id_seq from anon, authenticated;

create index audit_log_entity_idx on public.audit_log (entity_type, entity_id);

-- Every email the marketplace sends. With a provider configured the handler sends it and
-- records the provider's id ('sent'); without one it stays here ('stored'), where the
-- monitor shows it. 'pending' is a row whose sending has not succeeded yet.
create table public.email_outbox (
  id                   uuid primary key default gen_random_uuid(),
  store_id             uuid references public.stores (id),
  to_email             text not null,
  subject              text not null,
  html                 text not null,
  status               text not null default 'pending' check (status in ('pending', 'sent', 'stored')),
  provider             text,
  provider_message_id  text,
  attempts             int not null default 0,
  last_error           text,
  dedupe_key           text not null unique,
  created_at           timestamptz not null default now(),
  sent_at              timestamptz
);
alter table public.email_outbox enable row level security;
revoke all on table public.email_outbox from anon, authenticated;
grant select on table public.email_outbox to authenticated;

-- trust.auto_assign: gives the ticket to the active agent with the fewest assigned tickets
-- (ties: the longest-standing agent). Assignments are serialised by an advisory lock, so
-- two tickets arriving together do not both pick the same "least loaded" agent.
-- Returns the agent's user id, or null when there is no active agent (the ticket stays
-- open, and the handler tries again later).
create or replace function public.auto_assign_ticket(p_ticket_id uuid)
returns uuid
language plpgsql security definer
set search_path = public, pg_catalog
as $$
declare
  v_ticket support_tickets;
  v_agent  uuid;
begin
  perform pg_advisory_xact_lock(hashtext('feyxa.auto_assign_ticket'));
  select * into v_ticket from support_tickets where id = p_ticket_id for update;
  if not found then
    raise exception using errcode = '22023', message = format('no ticket %s', p_ticket_id), detail = 'ticket_id';
  end if;
  if v_ticket.assigned_agent_id is not null or v_ticket.status = 'closed' then
    return v_ticket.assigned_agent_id;
  end if;
  select a.user_id into v_agent
  from support_agents a
  left join support_tickets t on t.assigned_agent_id = a.user_id and t.status = 'assigned'
  where a.is_active
  group by a.user_id, a.created_at
  order by count(t.id), a.created_at, a.user_id
  limit 1;
  if v_agent is not null then
    update support_tickets set assigned_agent_id = v_agent, assigned_at = now(), status = 'assigned' where id = p_ticket_id;
  end if;
  return v_agent;
end;
$$;
comment on function public.auto_assign_ticket(uuid) is 'trust.auto_assign: assigns the ticket to the least-loaded active agent, once. Null when no agent is active.';
revoke all on function public.auto_assign_ticket(uuid) from public, anon, authenticated;
