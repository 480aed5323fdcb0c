-- [20261123100001]

create table public.payments (
  id uuid default gen_random_uuid() primary key,
  order_id uuid not null references public.orders(id) on delete cascade unique,
  store_id uuid not null references public.stores(id),
  amount_minor bigint not null check (amount_minor >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'::text),
  status text default 'pending' not null check (status in ('pending', 'paid', 'failed', 'refunded')),
  provider text default 'demo' not null,
  provider_ref text,
  paid_at timestamp with time zone,
  created_at timestamp with time zone default now() not null
);
alter table public.payments enable row level security;
revoke all on table public.payments from anon, authenticated;
grant select on table public.payments to authenticated;

-- [20261123100002]
-- Money: the escrow that holds a buyer's payment until delivery, the store's ledger, and
-- payouts. Every transition is a SQL function that the fintech handlers call, written so
-- that calling it twice changes nothing the second time.
create table public.escrows (
  id uuid default gen_random_uuid() primary key,
  order_id uuid not null references public.orders(id) on delete cascade unique,
  store_id uuid not null references public.stores(id),
  amount_minor bigint not null check (amount_minor >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'::text),
  status text default 'held' not null check (status in ('held', 'released', 'refunded')),
  -- when the buyer's payment arrived
  funded_at timestamp with time zone,
  released_at timestamp with time zone,
  refunded_at timestamp with time zone,
  created_at timestamp with time zone default now() not null,
  constraint escrows_check check ((status = 'released'::text) = (released_at is not null)),
  constraint escrows_check1 check ((status <> 'released'::text) or (funded_at is not null))
);
alter table public.escrows enable row level security;
revoke all on table public.escrows from anon, authenticated;
grant select on table public.escrows to authenticated;

-- [20261123100002]
-- The store's money, as entries: + a released escrow, - a payout. unique (kind, ref_id)
-- means an escrow is credited at most once and a payout debited at most once.
create table public.store_ledger (
  id bigint generated always as identity primary key,
  store_id uuid not null references public.stores(id),
  currency text not null check (currency ~ '^[A-Z]{3}$'::text),
  amount_minor bigint not null,
  kind text not null check (kind in ('escrow_release', 'payout')),
  ref_id uuid not null,
  created_at timestamp with time zone default now() not null,
  constraint store_ledger_kind_ref_id_key unique (kind, ref_id)
);
alter table public.store_ledger enable row level security;
revoke all on table public.store_ledger from anon, authenticated;
grant select on table public.store_ledger to authenticated;
revoke all on sequence public.store_ledger_id_seq from anon, authenticated;

-- [20261123100002]
create index store_ledger_store_idx on public.store_ledger (store_id, currency);

create or replace view public.store_balances with (security_invoker=on) as
 select store_id,
    currency,
    sum(amount_minor)::bigint as balance_minor
   from public.store_ledger
  group by store_id, currency;
comment on view public.store_balances is 'What each store may be paid out: released escrows minus payouts, per currency.';
revoke all on table public.store_balances from anon, authenticated;
grant select on table public.store_balances to authenticated;

-- [20261123100002]

create table public.payouts (
  id uuid default gen_random_uuid() primary key,
  store_id uuid not null references public.stores(id),
  amount_minor bigint not null check (amount_minor > 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'::text),
  status text default 'requested' not null check (status in ('requested', 'paid', 'refused')),
  refusal_reason text,
  requested_by uuid references auth.users(id),
  created_at timestamp with time zone default now() not null,
  processed_at timestamp with time zone
);
alter table public.payouts enable row level security;
revoke all on table public.payouts from anon, authenticated;
grant select on table public.payouts to authenticated;

-- [20261123100002]
create index payouts_store_idx on public.payouts (store_id, created_at desc);

-- [first 20261123100002]
-- The buyer's payment arrived: the payment is paid and the escrow funded. Idempotent.
-- [20261127300000]
create or replace function public.record_payment_paid(p_payment_id uuid)
returns text
language plpgsql security definer
set search_path = public, pg_catalog
as $$
declare
  v_payment payments;
begin
  -- The order's lock first, as create_escrow_for_order takes it: an escrow being created
  -- now is committed (and found below) before this goes on.
  perform 1 from orders where id = (select order_id from payments where id = p_payment_id) for update;
  update payments set status = 'paid', paid_at = coalesce(paid_at, now())
  where id = p_payment_id and status in ('pending', 'failed', 'paid')
  returning * into v_payment;
  if not found then
    raise exception using errcode = '22023', message = format('no payable payment %s', p_payment_id), detail = 'payment_id';
  end if;
  update escrows set funded_at = coalesce(funded_at, v_payment.paid_at) where order_id = v_payment.order_id;
  return 'paid';
end;
$$;
comment on function public.record_payment_paid(uuid) is 'fintech.update_payment_status: marks the payment paid (keeping the first paid_at) and the order''s escrow funded, under the order''s lock (as create_escrow_for_order).';
revoke all on function public.record_payment_paid(uuid) from anon, authenticated, public;

-- [first 20261123100002]
-- Holds the order's total in escrow. The order row is locked first, so that this and the
-- out-of-stock compensation (reserve_stock_for_order) see each other's effects: an escrow
-- is never created for an order that has just been cancelled, nor left behind by one.
-- Returns 'created', 'exists' or 'order_cancelled'.
-- [20261127300000]
-- A handler's outcome must not depend on whether its previous attempt crashed, nor on which
-- of two events' handlers happened to run first (issue 12, the chaos tier).
--
-- An escrow is funded when its order's payment is paid, whichever comes first. Until now
-- record_payment_paid (payment.paid) funded only an escrow that already existed, and
-- create_escrow_for_order (order.created) made every escrow unfunded: when payment.paid was
-- handled first (order.created's attempt crashed and waited for its lease, or was just slower)
-- the escrow stayed unfunded for good and its release failed until dead. Both now take the
-- order's row lock first, so one sees what the other did: the escrow is created funded when
-- the payment's arrival is already recorded, and the payment funds the escrow when it exists.
create or replace function public.create_escrow_for_order(p_order_id uuid)
returns text
language plpgsql security definer
set search_path = public, pg_catalog
as $$
declare
  v_order orders;
begin
  select * into v_order from orders where id = p_order_id for update;
  if not found then
    raise exception using errcode = '22023', message = format('no order %s', p_order_id), detail = 'order_id';
  end if;
  if v_order.status = 'cancelled' then
    return 'order_cancelled';
  end if;
  -- Under the order's lock, which record_payment_paid takes too: a payment recorded before
  -- this is read here, one recorded after finds the escrow.
  insert into escrows (order_id, store_id, amount_minor, currency, funded_at)
  values (v_order.id, v_order.store_id, v_order.total_minor, v_order.currency,
          (select paid_at from payments where order_id = v_order.id and status = 'paid'))
  on conflict (order_id) do nothing;
  return case when found then 'created' else 'exists' end;
end;
$$;
comment on function public.create_escrow_for_order(uuid) is 'fintech.create_escrow: holds the order total in escrow, once, funded if the order''s payment is already recorded. Returns created, exists or order_cancelled.';
revoke all on function public.create_escrow_for_order(uuid) from anon, authenticated, public;

-- [20261123100002]
-- Releases the order's escrow to the store, at most once: the escrow row is locked, only
-- a held and funded escrow moves, and the ledger credit is unique per escrow.
-- Returns 'released', 'already_released', 'refunded', 'no_escrow' or 'not_funded'.
create or replace function public.release_escrow_for_order(p_order_id uuid)
returns text
language plpgsql security definer
set search_path = public, pg_catalog
as $$
declare
  v_escrow escrows;
begin
  select * into v_escrow from escrows where order_id = p_order_id for update;
  if not found then return 'no_escrow'; end if;
  if v_escrow.status = 'released' then return 'already_released'; end if;
  if v_escrow.status = 'refunded' then return 'refunded'; end if;
  if v_escrow.funded_at is null then return 'not_funded'; end if;

  update escrows set status = 'released', released_at = now() where id = v_escrow.id;
  insert into store_ledger (store_id, currency, amount_minor, kind, ref_id)
  values (v_escrow.store_id, v_escrow.currency, v_escrow.amount_minor, 'escrow_release', v_escrow.id)
  on conflict (kind, ref_id) do nothing;
  update orders set status = 'completed', updated_at = now() where id = p_order_id and status <> 'cancelled';
  return 'released';
end;
$$;
comment on function public.release_escrow_for_order(uuid) is 'fintech.release_escrow: credits the store with the order''s escrow, at most once. Returns released, already_released, refunded, no_escrow or not_funded.';
revoke all on function public.release_escrow_for_order(uuid) from anon, authenticated, public;

-- [20261123100002]
-- Pays a requested payout out of the store's released balance, or refuses it. The store
-- row is locked so that two payouts of one store are decided one after the other and
-- can never together exceed the balance. Returns the payout's status and the reason.
create or replace function public.process_payout(p_payout_id uuid, out status text, out reason text)
returns record
language plpgsql security definer
set search_path = public, pg_catalog
as $$
declare
  v_payout  payouts;
  v_balance bigint;
begin
  select p.* into v_payout from payouts p where p.id = p_payout_id;
  if not found then
    raise exception using errcode = '22023', message = format('no payout %s', p_payout_id), detail = 'payout_id';
  end if;
  perform 1 from stores where id = v_payout.store_id for update;
  select p.* into v_payout from payouts p where p.id = p_payout_id for update;  -- re-read under the lock
  if v_payout.status <> 'requested' then
    status := v_payout.status;
    reason := v_payout.refusal_reason;
    return;
  end if;

  select coalesce(sum(amount_minor), 0) into v_balance
  from store_ledger where store_id = v_payout.store_id and currency = v_payout.currency;
  if v_payout.amount_minor > v_balance then
    status := 'refused';
    reason := format('payout of %s %s exceeds the released balance of %s %s',
                     v_payout.amount_minor, v_payout.currency, v_balance, v_payout.currency);
    update payouts set status = 'refused', refusal_reason = reason, processed_at = now() where id = p_payout_id;
    return;
  end if;

  insert into store_ledger (store_id, currency, amount_minor, kind, ref_id)
  values (v_payout.store_id, v_payout.currency, -v_payout.amount_minor, 'payout', v_payout.id);
  update payouts set status = 'paid', processed_at = now() where id = p_payout_id;
  status := 'paid';
end;
$$;
comment on function public.process_payout(uuid) is 'fintech.process_payout: pays the payout from the store''s released balance, or refuses it for overdraft; decided once, under a per-store lock.';
revoke all on function public.process_payout(uuid) from anon, authenticated, public;

-- [20261123600001]
-- Stripe's payment_intent.succeeded: the order named by metadata.order_id is paid, if the
-- amount and currency are the order's. The payment row is locked, so two deliveries of
-- two different Stripe events for one intent still pay it once.
create or replace function public.apply_stripe_payment_succeeded(p_intent jsonb)
returns text
language plpgsql security definer
set search_path = public, pg_catalog
as $$
declare
  v_order_text text := p_intent -> 'metadata' ->> 'order_id';
  v_payment payments;
  v_amount text := coalesce(p_intent ->> 'amount_received', p_intent ->> 'amount');
begin
  if v_order_text is null or v_order_text !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return 'no_order';
  end if;
  select * into v_payment from payments where order_id = v_order_text::uuid for update;
  if not found then return 'no_payment'; end if;
  if v_payment.status = 'paid' then return 'already_paid'; end if;
  if v_payment.status not in ('pending', 'failed') then return 'not_payable'; end if;
  if v_amount is null or v_amount !~ '^[0-9]{1,18}$' or v_amount::bigint <> v_payment.amount_minor
     or upper(coalesce(p_intent ->> 'currency', '')) <> v_payment.currency then
    return 'amount_mismatch';
  end if;
  -- The status change fires payments_emit_paid: payment.paid, in this transaction.
  update payments set status = 'paid', provider = 'stripe', provider_ref = left(p_intent ->> 'id', 200),
                      paid_at = coalesce(paid_at, now())
  where id = v_payment.id;
  return 'paid';
end;
$$;
comment on function public.apply_stripe_payment_succeeded(jsonb) is 'Stripe payment_intent.succeeded: marks the payment of metadata.order_id paid (provider stripe, provider_ref the intent id) when amount and currency match; the trigger emits payment.paid. Returns paid, already_paid, no_order, no_payment, not_payable or amount_mismatch.';
revoke all on function public.apply_stripe_payment_succeeded(jsonb) from anon, authenticated, public;
