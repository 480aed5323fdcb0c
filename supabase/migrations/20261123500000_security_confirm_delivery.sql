-- confirm-delivery with a verified caller: a signed-in buyer confirms their own order
-- (orders.customer_id), a guest order is confirmed with the order's email address, and
-- the server may confirm any. The state change itself stays confirm_delivery's.
create or replace function confirm_delivery_as(p_order_id uuid, p_customer_id uuid, p_customer_email text, p_as_server boolean)
returns text
language plpgsql
security definer
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
comment on function confirm_delivery_as(uuid, uuid, text, boolean) is
  'confirm-delivery for a verified caller: the buyer of the order (by user id), a guest (by the order''s email, guest orders only), or the server.';
revoke all on function confirm_delivery_as(uuid, uuid, text, boolean) from public, anon, authenticated;
grant execute on function confirm_delivery_as(uuid, uuid, text, boolean) to service_role;
