-- Orders: the shop floor. Products with their stock, orders and their lines, the stock each
-- order took, and the functions that place an order and move it along.
--
-- checkout() places an order in one transaction: the order, its items priced from products
-- (never from the client), its pending payment (money.sql) and delivery (deliveries.sql),
-- and its order.created event. The engines' handlers then move it forward, never back:
--
--   pending_payment -> paid -> delivered -> completed        or cancelled
--
-- advance_order_status moves it to paid (commerce.update_order_status) and to delivered
-- (logistics.mark_delivered), the escrow's release completes it (money.sql), and
-- reserve_stock_for_order cancels it when a product is short, refunding its escrow and
-- emitting order.cancelled. The functions that meet on one order (stock, escrow, payment)
-- take the order's row lock first, so each sees what the other did, whichever event's
-- handler runs first.
--
-- Money is integer minor units (cents, francs) with a currency. Signed-in users read
-- orders through access.sql's policies; every function here is the server's (revoked from
-- public, anon and authenticated; service_role keeps the execute Supabase grants it).

create table public.products (
  id               uuid primary key default gen_random_uuid(),
  store_id         uuid not null references public.stores (id) on delete cascade,
  name             text not null check (length(name) between 1 and 200),
  price_minor      bigint not null check (price_minor >= 0),
  currency         text not null check (currency ~ '^[A-Z]{3}$'),
  stock            int not null default 0,
  allow_backorder  boolean not null default false,
  created_at       timestamptz not null default now(),
  -- Stock never goes negative, unless the product may be sold before it is in stock.
  constraint products_stock_not_negative check (allow_backorder or stock >= 0)
);
alter table public.products enable row level security;
revoke all on table public.products from anon, authenticated;
grant select on table public.products to anon, authenticated;

create index products_store_idx on public.products (store_id);

create table public.orders (
  id              uuid primary key default gen_random_uuid(),
  store_id        uuid not null references public.stores (id),
  -- The signed-in buyer; null for a guest order, known by its email address only.
  customer_id     uuid references auth.users (id),
  customer_email  text not null check (customer_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(customer_email) <= 254),
  order_number    text not null unique,
  status          text not null default 'pending_payment'
                  check (status in ('pending_payment', 'paid', 'delivered', 'completed', 'cancelled')),
  total_minor     bigint not null check (total_minor >= 0),
  currency        text not null check (currency ~ '^[A-Z]{3}$'),
  payment_method  text not null check (payment_method in ('card', 'mobile_money', 'cash_on_delivery')),
  -- Where the buyer came from (utm_*, referrer, ...): order.created carries it to
  -- intelligence.attribute_conversion.
  attribution     jsonb not null default '{}' check (jsonb_typeof(attribution) = 'object'),
  cancel_reason   text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
alter table public.orders enable row level security;
revoke all on table public.orders from anon, authenticated;
grant select on table public.orders to authenticated;

create index orders_store_created_idx on public.orders (store_id, created_at desc);
create index orders_customer_idx on public.orders (customer_id) where customer_id is not null;

create table public.order_items (
  id                uuid primary key default gen_random_uuid(),
  order_id          uuid not null references public.orders (id) on delete cascade,
  product_id        uuid not null references public.products (id),
  quantity          int not null check (quantity between 1 and 1000),
  unit_price_minor  bigint not null check (unit_price_minor >= 0),
  unique (order_id, product_id)
);
alter table public.order_items enable row level security;
revoke all on table public.order_items from anon, authenticated;
grant select on table public.order_items to authenticated;

-- Stock taken for an order, one row per order line: the decrement happens once, however
-- often the handler runs, because this row can be written once. Server only.
create table public.stock_movements (
  order_id    uuid not null references public.orders (id) on delete cascade,
  product_id  uuid not null references public.products (id),
  quantity    int not null,
  created_at  timestamptz not null default now(),
  primary key (order_id, product_id)
);
alter table public.stock_movements enable row level security;
revoke all on table public.stock_movements from anon, authenticated;

-- The payload of an order's order.created, from the order as stored: what checkout emits,
-- and what process-event rebuilds when a buyer asks for their order's event
-- (src/marketplace/engines/authorize.ts), so the two cannot drift apart.
create or replace function public.order_created_payload(p_order_id uuid)
returns jsonb
language sql stable
set search_path = public, pg_catalog
as $$
  select jsonb_build_object(
    'order_number', o.order_number, 'total_minor', o.total_minor, 'currency', o.currency,
    'customer_email', o.customer_email,
    'items', (select jsonb_agg(jsonb_build_object('product_id', i.product_id, 'quantity', i.quantity,
                                                  'unit_price_minor', i.unit_price_minor) order by i.product_id)
              from order_items i where i.order_id = o.id),
    'payment_method', o.payment_method, 'attribution', o.attribution)
  from orders o where o.id = p_order_id
$$;
comment on function public.order_created_payload(uuid) is 'The order.created payload of an order, from the stored order and its items (checkout and process-event both use it).';
revoke all on function public.order_created_payload(uuid) from public, anon, authenticated;

-- Checkout: the order, its items, its pending payment and delivery, and order.created,
-- in one transaction. Prices come from the products table, never from the client.
-- p_items: [{product_id, quantity}]. Returns the order and its event.
-- Not callable through the Data API: it trusts its p_customer_id, so an API role calling
-- it could order in anyone's name. Buyers check out through the checkout HTTP function
-- (src/marketplace/functions/checkout.ts), which runs as the server and takes the customer
-- from the verified token, never from the request body.
create or replace function public.checkout(
  p_store_id uuid, p_customer_email text, p_items jsonb, p_payment_method text,
  p_attribution jsonb default '{}', p_customer_id uuid default null
)
returns table (order_id uuid, order_number text, event_id uuid, total_minor bigint, currency text)
language plpgsql security definer
set search_path = public, feyxa, pg_catalog
as $$
declare
  v_store    stores;
  v_bad      text;
  v_order    orders;
begin
  select * into v_store from stores where id = p_store_id;
  if not found then
    raise exception using errcode = '22023', message = 'store_id: no such store', detail = 'store_id';
  end if;
  if p_customer_email is null or p_customer_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or length(p_customer_email) > 254 then
    raise exception using errcode = '22023', message = 'customer_email: not an email address', detail = 'customer_email';
  end if;
  if p_payment_method is null or p_payment_method not in ('card', 'mobile_money', 'cash_on_delivery') then
    raise exception using errcode = '22023', message = 'payment_method: one of card, mobile_money, cash_on_delivery', detail = 'payment_method';
  end if;
  if p_attribution is not null and jsonb_typeof(p_attribution) <> 'object' then
    raise exception using errcode = '22023', message = 'attribution: must be a JSON object', detail = 'attribution';
  end if;
  if p_items is null or jsonb_typeof(p_items) <> 'array' or jsonb_array_length(p_items) = 0 then
    raise exception using errcode = '22023', message = 'items: at least one item is required', detail = 'items';
  end if;
  if jsonb_array_length(p_items) > 100 then
    raise exception using errcode = '22023', message = 'items: at most 100 lines', detail = 'items';
  end if;

  -- Every line must name a product of this store, once, with a sane quantity.
  select format('items[%s]: %s', i.ord - 1, case
           when jsonb_typeof(i.v) <> 'object' or i.v ->> 'product_id' !~* '^[0-9a-f-]{36}$' then 'product_id must be a UUID'
           when coalesce(i.v ->> 'quantity', '') !~ '^[0-9]{1,4}$' or (i.v ->> 'quantity')::int not between 1 and 1000 then 'quantity must be 1 to 1000'
           when p.id is null then 'no such product in this store'
           else 'the same product appears twice' end)
  into v_bad
  from jsonb_array_elements(p_items) with ordinality i(v, ord)
  left join products p on p.id::text = lower(i.v ->> 'product_id') and p.store_id = p_store_id
  where p.id is null
     or coalesce(i.v ->> 'quantity', '') !~ '^[0-9]{1,4}$' or (i.v ->> 'quantity')::int not between 1 and 1000
     or (select count(*) from jsonb_array_elements(p_items) j where j ->> 'product_id' = i.v ->> 'product_id') > 1
  order by i.ord limit 1;
  if v_bad is not null then
    raise exception using errcode = '22023', message = v_bad, detail = 'items';
  end if;

  -- The number is the day and 32 random bits: at 2,000 orders a day, two of them draw the
  -- same about one day in 2,000 (the birthday bound). The second draws again (on conflict
  -- do nothing: no subtransaction on the usual path).
  loop
    insert into orders (store_id, customer_id, customer_email, order_number, total_minor, currency, payment_method, attribution)
    select p_store_id, p_customer_id, lower(p_customer_email),
           'FX-' || to_char(now(), 'YYMMDD') || '-' || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 8)),
           sum(p.price_minor * (i.v ->> 'quantity')::int), v_store.currency, p_payment_method, coalesce(p_attribution, '{}')
    from jsonb_array_elements(p_items) i(v)
    join products p on p.id = (i.v ->> 'product_id')::uuid
    on conflict on constraint orders_order_number_key do nothing
    returning * into v_order;
    exit when found;
  end loop;

  -- Each item's foreign key takes FOR KEY SHARE on its product, row by row in insertion
  -- order: inserting by product id makes every checkout lock products in one global order
  -- (the same as reserve_stock_for_order), whatever order the buyer listed them in.
  insert into order_items (order_id, product_id, quantity, unit_price_minor)
  select v_order.id, p.id, (i.v ->> 'quantity')::int, p.price_minor
  from jsonb_array_elements(p_items) i(v)
  join products p on p.id = (i.v ->> 'product_id')::uuid
  order by p.id;

  insert into payments (order_id, store_id, amount_minor, currency) values (v_order.id, p_store_id, v_order.total_minor, v_order.currency);
  insert into deliveries (order_id, store_id) values (v_order.id, p_store_id);

  order_id := v_order.id;
  order_number := v_order.order_number;
  total_minor := v_order.total_minor;
  currency := v_order.currency;
  event_id := emit_event('order.created', 'order', v_order.id, p_store_id, order_created_payload(v_order.id));
  return next;
end;
$$;
comment on function public.checkout(uuid,text,jsonb,text,jsonb,uuid) is 'Places an order: order, items (priced from products), pending payment and delivery, and the order.created event, in one transaction.';
revoke all on function public.checkout(uuid,text,jsonb,text,jsonb,uuid) from public, anon, authenticated;

-- commerce.decrement_stock (through src/marketplace/engines/reserve-stock.ts): takes the
-- order's stock, once (stock_movements is written once per order line).
-- When a product is short and may not be back-ordered, nothing is taken and the order
-- is compensated instead, in the same transaction: cancelled with the reason, its escrow
-- (if fintech.create_escrow already ran) refunded, and order.cancelled emitted.
-- Returns 'reserved', 'already_reserved', 'cancelled', or 'out_of_stock: <reason>' (again on
-- every later call for an order it cancelled so).
create or replace function public.reserve_stock_for_order(p_order_id uuid)
returns text
language plpgsql security definer
set search_path = public, feyxa, pg_catalog
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
comment on function public.reserve_stock_for_order(uuid) is 'commerce.decrement_stock: takes the order''s stock once; when short, cancels the order, refunds its escrow and emits order.cancelled instead.';
revoke all on function public.reserve_stock_for_order(uuid) from public, anon, authenticated;

-- Moves an order forward (paid, delivered), never backward and never out of cancelled.
-- Returns true when it moved.
create or replace function public.advance_order_status(p_order_id uuid, p_status text)
returns boolean
language plpgsql security definer
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
comment on function public.advance_order_status(uuid,text) is 'Moves an order forward along pending_payment -> paid -> delivered -> completed; never backward, never out of cancelled.';
revoke all on function public.advance_order_status(uuid,text) from public, anon, authenticated;
