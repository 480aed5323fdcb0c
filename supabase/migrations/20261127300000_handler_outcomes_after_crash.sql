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
  -- Under the order's lock, which record_payment_paid takes too: a payment recorded before
  -- this is read here, one recorded after finds the escrow.
  insert into escrows (order_id, store_id, amount_minor, currency, funded_at)
  values (v_order.id, v_order.store_id, v_order.total_minor, v_order.currency,
          (select paid_at from payments where order_id = v_order.id and status = 'paid'))
  on conflict (order_id) do nothing;
  return case when found then 'created' else 'exists' end;
end;
$$;
comment on function create_escrow_for_order(uuid) is
  'fintech.create_escrow: holds the order total in escrow, once, funded if the order''s payment is already recorded. Returns created, exists or order_cancelled.';

create or replace function record_payment_paid(p_payment_id uuid)
returns text
language plpgsql
security definer
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
comment on function record_payment_paid(uuid) is
  'fintech.update_payment_status: marks the payment paid (keeping the first paid_at) and the order''s escrow funded, under the order''s lock (as create_escrow_for_order).';
