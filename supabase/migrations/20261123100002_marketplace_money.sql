-- Money: the escrow that holds a buyer's payment until delivery, the store's ledger, and
-- payouts. Every transition is a SQL function that the fintech handlers call, written so
-- that calling it twice changes nothing the second time.

create table if not exists escrows (
  id            uuid primary key default gen_random_uuid(),
  order_id      uuid not null unique references orders (id) on delete cascade,
  store_id      uuid not null references stores (id),
  amount_minor  bigint not null check (amount_minor >= 0),
  currency      text not null check (currency ~ '^[A-Z]{3}$'),
  status        text not null default 'held' check (status in ('held', 'released', 'refunded')),
  funded_at     timestamptz,  -- when the buyer's payment arrived
  released_at   timestamptz,
  refunded_at   timestamptz,
  created_at    timestamptz not null default now(),
  check ((status = 'released') = (released_at is not null)),
  check (status <> 'released' or funded_at is not null)
);

-- The store's money, as entries: + a released escrow, - a payout. unique (kind, ref_id)
-- means an escrow is credited at most once and a payout debited at most once.
create table if not exists store_ledger (
  id            bigint generated always as identity primary key,
  store_id      uuid not null references stores (id),
  currency      text not null check (currency ~ '^[A-Z]{3}$'),
  amount_minor  bigint not null,
  kind          text not null check (kind in ('escrow_release', 'payout')),
  ref_id        uuid not null,
  created_at    timestamptz not null default now(),
  unique (kind, ref_id)
);
create index if not exists store_ledger_store_idx on store_ledger (store_id, currency);

-- security_invoker: the view reads store_ledger as its caller, so store_ledger's RLS and
-- grants apply (a store's staff see their stores' balances, anon none). Without it a view
-- reads as its owner, and the owner here (postgres on Supabase) bypasses RLS: every
-- caller would read every store's balance (Security Advisor 0010 security_definer_view).
create or replace view store_balances with (security_invoker = on) as
  select store_id, currency, sum(amount_minor)::bigint as balance_minor
  from store_ledger group by store_id, currency;
comment on view store_balances is 'What each store may be paid out: released escrows minus payouts, per currency.';

create table if not exists payouts (
  id            uuid primary key default gen_random_uuid(),
  store_id      uuid not null references stores (id),
  amount_minor  bigint not null check (amount_minor > 0),
  currency      text not null check (currency ~ '^[A-Z]{3}$'),
  status        text not null default 'requested' check (status in ('requested', 'paid', 'refused')),
  refusal_reason text,
  requested_by  uuid references auth.users (id),
  created_at    timestamptz not null default now(),
  processed_at  timestamptz
);
create index if not exists payouts_store_idx on payouts (store_id, created_at desc);

-- Holds the order's total in escrow. The order row is locked first, so that this and the
-- out-of-stock compensation (reserve_stock_for_order) see each other's effects: an escrow
-- is never created for an order that has just been cancelled, nor left behind by one.
-- Returns 'created', 'exists' or 'order_cancelled'.
create or replace function create_escrow_for_order(p_order_id uuid)
returns text
language plpgsql
security definer
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
  insert into escrows (order_id, store_id, amount_minor, currency)
  values (v_order.id, v_order.store_id, v_order.total_minor, v_order.currency)
  on conflict (order_id) do nothing;
  return case when found then 'created' else 'exists' end;
end;
$$;
comment on function create_escrow_for_order(uuid) is
  'fintech.create_escrow: holds the order total in escrow, once. Returns created, exists or order_cancelled.';

-- The buyer's payment arrived: the payment is paid and the escrow funded. Idempotent.
create or replace function record_payment_paid(p_payment_id uuid)
returns text
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_payment payments;
begin
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
comment on function record_payment_paid(uuid) is
  'fintech.update_payment_status: marks the payment paid (keeping the first paid_at) and the order''s escrow funded.';

-- Releases the order's escrow to the store, at most once: the escrow row is locked, only
-- a held and funded escrow moves, and the ledger credit is unique per escrow.
-- Returns 'released', 'already_released', 'refunded', 'no_escrow' or 'not_funded'.
create or replace function release_escrow_for_order(p_order_id uuid)
returns text
language plpgsql
security definer
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
comment on function release_escrow_for_order(uuid) is
  'fintech.release_escrow: credits the store with the order''s escrow, at most once. Returns released, already_released, refunded, no_escrow or not_funded.';

-- Pays a requested payout out of the store's released balance, or refuses it. The store
-- row is locked so that two payouts of one store are decided one after the other and
-- can never together exceed the balance. Returns the payout's status and the reason.
create or replace function process_payout(p_payout_id uuid, out status text, out reason text)
language plpgsql
security definer
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
comment on function process_payout(uuid) is
  'fintech.process_payout: pays the payout from the store''s released balance, or refuses it for overdraft; decided once, under a per-store lock.';
