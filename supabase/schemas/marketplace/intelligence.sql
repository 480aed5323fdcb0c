-- Intelligence: what a marketplace operator wants to know from the flow of events.
--
-- Conversion attribution: on order.created, intelligence.attribute_conversion records which
-- channel brought the order (the order's attribution: utm_* or source/medium/campaign, and
-- the referrer; 'direct' when none), once per order. Daily metrics: on every order.* and
-- payment.* event, intelligence.update_daily_metrics recomputes the figures of the order's
-- store for the order's day (UTC), per currency (src/marketplace/engines/intelligence.ts).
--
-- Store staff read both through access.sql's policies; the function here is the server's
-- (revoked from public, anon and authenticated; service_role keeps the execute Supabase
-- grants it).

create table public.order_attributions (
  order_id    uuid primary key references public.orders (id) on delete cascade,
  store_id    uuid not null references public.stores (id),
  source      text not null default 'direct',
  medium      text,
  campaign    text,
  referrer    text,
  created_at  timestamptz not null default now()
);
alter table public.order_attributions enable row level security;
revoke all on table public.order_attributions from anon, authenticated;
grant select on table public.order_attributions to authenticated;

create index order_attributions_store_source_idx on public.order_attributions (store_id, source);

create table public.store_daily_metrics (
  store_id         uuid not null references public.stores (id),
  day              date not null,
  currency         text not null,
  orders_count     int not null default 0,
  orders_minor     bigint not null default 0,
  paid_count       int not null default 0,
  paid_minor       bigint not null default 0,
  cancelled_count  int not null default 0,
  refreshed_at     timestamptz not null default now(),
  primary key (store_id, day, currency)
);
alter table public.store_daily_metrics enable row level security;
revoke all on table public.store_daily_metrics from anon, authenticated;
grant select on table public.store_daily_metrics to authenticated;

-- Recomputes one store's metrics for one day from the orders and payments themselves.
-- A recomputation rather than an increment: running it twice, or for events that arrive
-- out of order, always gives the true figures.
create or replace function public.refresh_store_daily_metrics(p_store_id uuid, p_day date)
returns void
language sql security definer
set search_path = public, pg_catalog
as $$
  insert into store_daily_metrics (store_id, day, currency, orders_count, orders_minor, paid_count, paid_minor, cancelled_count, refreshed_at)
  select o.store_id, p_day, o.currency,
         count(*), coalesce(sum(o.total_minor), 0),
         count(*) filter (where p.status = 'paid'), coalesce(sum(p.amount_minor) filter (where p.status = 'paid'), 0),
         count(*) filter (where o.status = 'cancelled'), now()
  from orders o left join payments p on p.order_id = o.id
  where o.store_id = p_store_id
    and o.created_at >= (p_day::timestamp at time zone 'UTC') and o.created_at < ((p_day + 1)::timestamp at time zone 'UTC')
  group by o.store_id, o.currency
  on conflict (store_id, day, currency) do update set
    orders_count = excluded.orders_count, orders_minor = excluded.orders_minor,
    paid_count = excluded.paid_count, paid_minor = excluded.paid_minor,
    cancelled_count = excluded.cancelled_count, refreshed_at = excluded.refreshed_at
$$;
comment on function public.refresh_store_daily_metrics(uuid,date) is 'intelligence.update_daily_metrics: recomputes a store''s orders, paid and cancelled figures for one day (UTC), idempotently.';
revoke all on function public.refresh_store_daily_metrics(uuid,date) from public, anon, authenticated;
