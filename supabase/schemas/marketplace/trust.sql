-- [20261123100004]
-- Trust and communication: support tickets and agents, in-app notifications, the audit
-- log and the email outbox. Rows written by handlers carry a dedupe_key (the handler's
-- idempotency key, event_id:handler_name), unique, so a re-run writes nothing new.
create table public.support_agents (
  user_id uuid primary key references auth.users(id) on delete cascade,
  display_name text not null check ((length(display_name) >= 1) and (length(display_name) <= 120)),
  is_active boolean default true not null,
  created_at timestamp with time zone default now() not null
);
alter table public.support_agents enable row level security;
revoke all on table public.support_agents from anon, authenticated;

-- [20261123100004]

create table public.support_tickets (
  id uuid default gen_random_uuid() primary key,
  store_id uuid references public.stores(id),
  order_id uuid references public.orders(id),
  customer_email text not null check ((length(customer_email) >= 3) and (length(customer_email) <= 254)),
  subject text not null check ((length(subject) >= 1) and (length(subject) <= 200)),
  body text default '' not null check (length(body) <= 10000),
  status text default 'open' not null check (status in ('open', 'assigned', 'closed')),
  assigned_agent_id uuid references public.support_agents(user_id),
  assigned_at timestamp with time zone,
  created_at timestamp with time zone default now() not null
);
alter table public.support_tickets enable row level security;
revoke all on table public.support_tickets from anon, authenticated;
grant select on table public.support_tickets to authenticated;

-- [20261123100004]
create index support_tickets_agent_open_idx on public.support_tickets (assigned_agent_id) where (status = 'assigned'::text);

-- [20261123100004]

create table public.notifications (
  id uuid default gen_random_uuid() primary key,
  store_id uuid references public.stores(id),
  user_id uuid references auth.users(id),
  kind text not null,
  title text not null,
  body text default '' not null,
  data jsonb default '{}'::jsonb not null,
  dedupe_key text not null unique,
  read_at timestamp with time zone,
  created_at timestamp with time zone default now() not null
);
alter table public.notifications enable row level security;
revoke all on table public.notifications from anon, authenticated;
grant select on table public.notifications to authenticated;

-- [20261123100004]
create index notifications_store_idx on public.notifications (store_id, created_at desc);

-- [20261123100004]

create table public.audit_log (
  id bigint generated always as identity primary key,
  event_id uuid references feyxa.events_log(id) on delete set null,
  actor text not null,
  action text not null,
  entity_type text not null,
  entity_id uuid,
  store_id uuid references public.stores(id),
  data jsonb default '{}'::jsonb not null,
  dedupe_key text not null unique,
  created_at timestamp with time zone default now() not null
);
alter table public.audit_log enable row level security;
revoke all on table public.audit_log from anon, authenticated;
grant select on table public.audit_log to authenticated;
revoke all on sequence public.audit_log_id_seq from anon, authenticated;

-- [20261123100004]
create index audit_log_entity_idx on public.audit_log (entity_type, entity_id);

-- [20261123100004]
-- Every email the marketplace sends. With a provider configured the handler sends it and
-- records the provider's id ('sent'); without one it stays here ('stored'), where the
-- monitor shows it. 'pending' is a row whose sending has not succeeded yet.
create table public.email_outbox (
  id uuid default gen_random_uuid() primary key,
  store_id uuid references public.stores(id),
  to_email text not null,
  subject text not null,
  html text not null,
  status text default 'pending' not null check (status in ('pending', 'sent', 'stored')),
  provider text,
  provider_message_id text,
  attempts integer default 0 not null,
  last_error text,
  dedupe_key text not null unique,
  created_at timestamp with time zone default now() not null,
  sent_at timestamp with time zone
);
alter table public.email_outbox enable row level security;
revoke all on table public.email_outbox from anon, authenticated;
grant select on table public.email_outbox to authenticated;

-- [20261123100004]
-- trust.auto_assign: gives the ticket to the active agent with the fewest assigned tickets
-- (ties: the longest-standing agent). Assignments are serialised by an advisory lock, so
-- two tickets arriving together do not both pick the same "least loaded" agent.
-- Returns the agent's user id, or null when there is no active agent (the ticket stays open).
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
revoke all on function public.auto_assign_ticket(uuid) from anon, authenticated, public;
