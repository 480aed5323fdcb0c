-- Money: what a buyer pays, the escrow that holds it until delivery, the store's ledger and
-- its payouts.
--
-- checkout() creates an order's payment, pending. A provider's webhook (Stripe, through
-- apply_stripe_payment_succeeded: bus-config.sql routes it) or, locally, demo-pay marks it
-- paid, and its trigger (triggers.sql) emits payment.paid. On order.created,
-- fintech.create_escrow holds the order's total in escrow; the escrow is funded when the
-- payment is paid, whichever of the two is handled first. On delivery the escrow is
-- released: the store's ledger is credited and the order completed. A store is paid out of
-- its ledger's balance, never more.
--
-- Every transition is a SQL function that a fintech handler calls
-- (src/marketplace/engines/fintech.ts), written so that calling it twice changes nothing the
-- second time: a row lock and a state check, and a unique key on what is written once (one
-- payment and one escrow per order, one ledger entry per escrow and per payout). Store
-- staff read these rows through access.sql's policies; every function here is the
-- server's (revoked from public, anon and authenticated; service_role keeps the execute
-- Supabase grants it).

create table public.payments (
  id            uuid primary key default gen_random_uuid(),
  order_id      uuid not null unique references public.orders (id) on delete cascade,
  store_id      uuid not null references public.stores (id),
  amount_minor  bigint not null check (amount_minor >= 0),
  currency      text not null check (currency ~ '^[A-Z]{3}$'),
  status        text not null default 'pending' check (status in ('pending', 'paid', 'failed', 'refunded')),
  -- Who took the money ('demo' locally, 'stripe') and its reference there (a payment intent's id).
  provider      text not null default 'demo',
  provider_ref  text,
  paid_at       timestamptz,
  created_at    timestamptz not null default now()
);
alter table public.payments enable row level security;
revoke all on table public.payments from anon, authenticated;
grant select on table public.payments to authenticated;

-- The buyer's money, held for the store until the order is delivered.
create table public.escrows (
  id            uuid primary key default gen_random_uuid(),
  order_id      uuid not null unique references public.orders (id) on delete cascade,
  store_id      uuid not null references public.stores (id),
  amount_minor  bigint not null check (amount_minor >= 0),
  currency      text not null check (currency ~ '^[A-Z]{3}$'),
  status        text not null default 'held' check (status in ('held', 'released', 'refunded')),
  -- when the buyer's payment arrived
  funded_at     timestamptz,
  released_at   timestamptz,
  refunded_at   timestamptz,
  created_at    timestamptz not null default now(),
  -- Released exactly when released_at is set, and only once funded.
  constraint escrows_check check ((status = 'released') = (released_at is not null)),
  constraint escrows_check1 check (status <> 'released' or funded_at is not null)
);
alter table public.escrows enable row level security;
revoke all on table public.escrows from anon, authenticated;
grant select on table public.escrows to authenticated;

-- The store's money, as entries: + a released escrow, - a payout. unique (kind, ref_id)
-- means an escrow is credited at most once and a payout debited at most once.
create table public.store_ledger (
  id            bigint generated always as identity primary key,
  store_id      uuid not null references public.stores (id),
  currency      text not null check (currency ~ '^[A-Z]{3}$'),
  amount_minor  bigint not null,
  kind          text not null check (kind in ('escrow_release', 'payout')),
  ref_id        uuid not null,
  created_at    timestamptz not null default now(),
  unique (kind, ref_id)
);
alter table public.store_ledger enable row level security;
revoke all on table public.store_ledger from anon, authenticated;
grant select on table public.store_ledger to authenticated;
-- nextval needs no grant for an identity column: the API roles need none on its sequence.
revoke all on sequence public.store_ledger_id_seq from anon, authenticated;

create index store_ledger_store_idx on public.store_ledger (store_id, currency);

-- security_invoker: the view reads store_ledger as its caller, so store_ledger's RLS and
-- grants apply (a store's staff see their stores' balances, anon none). Without it a view
-- reads as its owner, and the owner here (postgres on Supabase) bypasses RLS: every
-- caller would read every store's balance (Security Advisor 0010 security_definer_view).
create or replace view public.store_balances with (security_invoker = on) as
  select store_id, currency, sum(amount_minor)::bigint as balance_minor
  from public.store_ledger
  group by store_id, currency;
comment on view public.store_balances is 'What each store may be paid out: released escrows minus payouts, per currency.';
revoke all on table public.store_balances from anon, authenticated;
grant select on table public.store_balances to authenticated;

-- A store's request to be paid; its trigger (triggers.sql) emits payout.requested, and
-- fintech.process_payout decides it.
create table public.payouts (
  id              uuid primary key default gen_random_uuid(),
  store_id        uuid not null references public.stores (id),
  amount_minor    bigint not null check (amount_minor > 0),
  currency        text not null check (currency ~ '^[A-Z]{3}$'),
  status          text not null default 'requested' check (status in ('requested', 'paid', 'refused')),
  refusal_reason  text,
  requested_by    uuid references auth.users (id),
  created_at      timestamptz not null default now(),
  processed_at    timestamptz
);
alter table public.payouts enable row level security;
revoke all on table public.payouts from anon, authenticated;
grant select on table public.payouts to authenticated;

create index payouts_store_idx on public.payouts (store_id, created_at desc);

-- fintech.create_escrow: holds the order's total in escrow, once.
-- A handler's outcome must depend neither on which of two events' handlers runs first nor
-- on whether its previous attempt crashed. So the order row is locked first, as
-- reserve_stock_for_order and record_payment_paid lock it, and each sees what the other
-- did: an escrow is never created for an order that has just been cancelled for lack of
-- stock, nor left behind by one; it is created funded when the payment's arrival is
-- already recorded, and a payment recorded after it finds the escrow and funds it.
-- Returns 'created', 'exists' or 'order_cancelled'.
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
revoke all on function public.create_escrow_for_order(uuid) from public, anon, authenticated;

-- fintech.update_payment_status: the buyer's payment arrived, so the payment is paid and
-- the order's escrow, if it exists yet, funded. Idempotent. Under the order's lock, which
-- create_escrow_for_order takes too (see there).
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
revoke all on function public.record_payment_paid(uuid) from public, anon, authenticated;

-- Releases the order's escrow to the store, at most once: the escrow row is locked, only
-- a held and funded escrow moves, and the ledger credit is unique per escrow. The order
-- is then completed. Returns 'released', 'already_released', 'refunded', 'no_escrow' or
-- 'not_funded'.
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
revoke all on function public.release_escrow_for_order(uuid) from public, anon, authenticated;

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
revoke all on function public.process_payout(uuid) from public, anon, authenticated;

-- Stripe's payment_intent.succeeded: the order named by metadata.order_id is paid, if the
-- amount and currency are the order's. The payment row is locked, so two deliveries of
-- two different Stripe events for one intent still pay it once. Called by the
-- marketplace's feyxa.webhook_effect (bus-config.sql), in the transaction in which the
-- bus's receive_webhook records the provider event.
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
revoke all on function public.apply_stripe_payment_succeeded(jsonb) from public, anon, authenticated;
