-- Commerce and logistics transitions of an order, called by their handlers.

-- Takes the order's stock, once (stock_movements is written once per order line).
-- When a product is short and may not be back-ordered, nothing is taken and the order
-- is compensated instead, in the same transaction: cancelled with the reason, its escrow
-- (if fintech.create_escrow already ran) refunded, and order.cancelled emitted.
-- Returns 'reserved', 'already_reserved', 'cancelled', or 'out_of_stock: <reason>' (again on
-- every later call for an order it cancelled so).
create or replace function reserve_stock_for_order(p_order_id uuid)
returns text
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_order  orders;
  v_short  text;
begin
  select * into v_order from orders where id = p_order_id for update;  -- same lock as create_escrow_for_order
  if not found then
    raise exception using errcode = '22023', message = format('no order %s', p_order_id), detail = 'order_id';
  end if;
  -- A repeated call answers as the first did: an order this function cancelled for lack
  -- of stock is out of stock again (a retry after a crash that followed the commit must
  -- refuse the same way, not report success); one cancelled otherwise has nothing to take.
  if v_order.status = 'cancelled' then
    if v_order.cancel_reason like 'out of stock: %' then
      return 'out_of_stock: ' || substr(v_order.cancel_reason, length('out of stock: ') + 1);
    end if;
    return 'cancelled';
  end if;
  if exists (select 1 from stock_movements where order_id = p_order_id) then return 'already_reserved'; end if;

  -- Lock the products in one global order (by id, as checkout's items take theirs), and
  -- FOR NO KEY UPDATE, the lock the stock update takes anyway: it does not conflict with
  -- the FOR KEY SHARE that a concurrent checkout's order_items foreign keys take, so a
  -- reservation and checkouts of the same hot products never wait on each other at all,
  -- and reservations among themselves queue in id order (no deadlock, no lock upgrade).
  perform 1 from products where id in (select product_id from order_items where order_id = p_order_id) order by id for no key update;

  select string_agg(format('%s: %s wanted, %s in stock', p.name, oi.quantity, p.stock), '; ' order by p.name)
  into v_short
  from order_items oi join products p on p.id = oi.product_id
  where oi.order_id = p_order_id and not p.allow_backorder and p.stock < oi.quantity;

  if v_short is not null then
    update orders set status = 'cancelled', cancel_reason = 'out of stock: ' || v_short, updated_at = now() where id = p_order_id;
    update escrows set status = 'refunded', refunded_at = now() where order_id = p_order_id and status = 'held';
    perform emit_event('order.cancelled', 'order', p_order_id, v_order.store_id,
                       jsonb_build_object('order_number', v_order.order_number, 'reason', 'out of stock: ' || v_short));
    return 'out_of_stock: ' || v_short;
  end if;

  insert into stock_movements (order_id, product_id, quantity)
  select order_id, product_id, quantity from order_items where order_id = p_order_id;
  update products p set stock = p.stock - oi.quantity
  from order_items oi where oi.order_id = p_order_id and p.id = oi.product_id;
  return 'reserved';
end;
$$;
comment on function reserve_stock_for_order(uuid) is
  'commerce.decrement_stock: takes the order''s stock once; when short, cancels the order, refunds its escrow and emits order.cancelled instead.';

-- Moves an order forward (paid, delivered), never backward and never out of cancelled.
-- Returns true when it moved.
create or replace function advance_order_status(p_order_id uuid, p_status text)
returns boolean
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_rank constant text[] := array['pending_payment', 'paid', 'delivered', 'completed'];
begin
  if p_status is null or not (p_status = any (v_rank)) then
    raise exception using errcode = '22023', message = format('cannot advance an order to %s', p_status), detail = 'status';
  end if;
  update orders set status = p_status, updated_at = now()
  where id = p_order_id and status <> 'cancelled'
    and array_position(v_rank, status) < array_position(v_rank, p_status);
  return found;
end;
$$;
comment on function advance_order_status(uuid, text) is
  'Moves an order forward along pending_payment -> paid -> delivered -> completed; never backward, never out of cancelled.';

-- logistics.mark_delivered: the delivery is delivered (keeping the first time) and the order too.
create or replace function mark_delivery_delivered(p_delivery_id uuid)
returns text
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_delivery deliveries;
begin
  update deliveries set delivered_at = coalesce(delivered_at, now()),
                        status = case when status in ('pending', 'shipped') then 'delivered' else status end
  where id = p_delivery_id
  returning * into v_delivery;
  if not found then
    raise exception using errcode = '22023', message = format('no delivery %s', p_delivery_id), detail = 'delivery_id';
  end if;
  perform advance_order_status(v_delivery.order_id, 'delivered');
  return v_delivery.status;
end;
$$;
comment on function mark_delivery_delivered(uuid) is
  'logistics.mark_delivered: records the delivery time once and moves the order to delivered.';

-- The buyer confirms receipt (confirm-delivery). Only a delivered delivery can be
-- confirmed; confirming twice is a no-op. The status trigger emits delivery.confirmed.
create or replace function confirm_delivery(p_order_id uuid, p_customer_email text)
returns text
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_delivery deliveries;
begin
  select d.* into v_delivery from deliveries d join orders o on o.id = d.order_id
  where d.order_id = p_order_id and o.customer_email = lower(p_customer_email)
  for update of d;
  if not found then
    raise exception using errcode = 'P0002', message = 'no delivery of yours for this order', detail = 'order_id';
  end if;
  if v_delivery.status = 'confirmed' then return 'confirmed'; end if;
  if v_delivery.status <> 'delivered' then
    raise exception using errcode = '55000', message = format('the delivery is %s; it can be confirmed once delivered', v_delivery.status), detail = 'order_id';
  end if;
  update deliveries set status = 'confirmed', confirmed_at = now() where id = v_delivery.id;
  return 'confirmed';
end;
$$;
comment on function confirm_delivery(uuid, text) is
  'The buyer confirms a delivered order (by order id and the order''s email). Idempotent; the trigger emits delivery.confirmed.';
