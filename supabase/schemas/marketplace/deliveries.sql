-- Deliveries: getting an order to its buyer, and the buyer saying it arrived.
--
-- checkout() creates each order's delivery, pending. The courier (locally demo-deliver)
-- sets it delivered; its trigger (triggers.sql) emits delivery.delivered, on which
-- logistics.mark_delivered records the time and moves the order to delivered, and then
-- fintech.release_escrow pays the store (money.sql). The buyer may confirm receipt
-- (the confirm-delivery HTTP function): the delivery becomes confirmed and
-- delivery.confirmed is emitted, which also releases the escrow if it is still held, and
-- is written to the audit log.
--
-- Store staff read deliveries through access.sql's policies; every function here is the
-- server's (revoked from public, anon and authenticated; service_role keeps the execute
-- Supabase grants it).

create table public.deliveries (
  id            uuid primary key default gen_random_uuid(),
  order_id      uuid not null unique references public.orders (id) on delete cascade,
  store_id      uuid not null references public.stores (id),
  status        text not null default 'pending' check (status in ('pending', 'shipped', 'delivered', 'confirmed')),
  delivered_at  timestamptz,
  confirmed_at  timestamptz,
  created_at    timestamptz not null default now()
);
alter table public.deliveries enable row level security;
revoke all on table public.deliveries from anon, authenticated;
grant select on table public.deliveries to authenticated;

-- logistics.mark_delivered: the delivery is delivered (keeping the first time) and the order too.
create or replace function public.mark_delivery_delivered(p_delivery_id uuid)
returns text
language plpgsql security definer
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
comment on function public.mark_delivery_delivered(uuid) is 'logistics.mark_delivered: records the delivery time once and moves the order to delivered.';
revoke all on function public.mark_delivery_delivered(uuid) from public, anon, authenticated;

-- The buyer confirms receipt, named by the order and the order's email address. Only a
-- delivered delivery can be confirmed; confirming twice is a no-op. The status trigger
-- emits delivery.confirmed. Who the caller is, confirm_delivery_as decides.
create or replace function public.confirm_delivery(p_order_id uuid, p_customer_email text)
returns text
language plpgsql security definer
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
comment on function public.confirm_delivery(uuid,text) is 'The buyer confirms a delivered order (by order id and the order''s email). Idempotent; the trigger emits delivery.confirmed.';
revoke all on function public.confirm_delivery(uuid,text) from public, anon, authenticated;

-- confirm-delivery with a verified caller (src/marketplace/functions/confirm-delivery.ts):
-- a signed-in buyer confirms their own order (orders.customer_id), a guest order is
-- confirmed with the order's email address, and the server may confirm any. The state
-- change itself stays confirm_delivery's.
create or replace function public.confirm_delivery_as(p_order_id uuid, p_customer_id uuid, p_customer_email text, p_as_server boolean)
returns text
language plpgsql security definer
set search_path = public, pg_catalog
as $$
declare
  v_order orders;
begin
  select * into v_order from orders where id = p_order_id;
  if not found
     or not (p_as_server
             or (p_customer_id is not null and v_order.customer_id = p_customer_id)
             or (v_order.customer_id is null and p_customer_email is not null and v_order.customer_email = lower(p_customer_email))) then
    raise exception using errcode = 'P0002', message = 'no delivery of yours for this order', detail = 'order_id';
  end if;
  return confirm_delivery(p_order_id, v_order.customer_email);
end;
$$;
comment on function public.confirm_delivery_as(uuid,uuid,text,boolean) is 'confirm-delivery for a verified caller: the buyer of the order (by user id), a guest (by the order''s email, guest orders only), or the server.';
revoke all on function public.confirm_delivery_as(uuid,uuid,text,boolean) from public, anon, authenticated;
