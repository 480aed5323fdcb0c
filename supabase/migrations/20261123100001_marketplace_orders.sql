-- The shop floor: products with stock, orders and their items, the payment and the
-- delivery of each order. Money is integer minor units (cents, francs) with a currency.

create table if not exists products (
  id               uuid primary key default gen_random_uuid(),
  store_id         uuid not null references stores (id) on delete cascade,
  name             text not null check (length(name) between 1 and 200),
  price_minor      bigint not null check (price_minor >= 0),
  currency         text not null check (currency ~ '^[A-Z]{3}$'),
  stock            int not null default 0,
  allow_backorder  boolean not null default false,
  created_at       timestamptz not null default now(),
  -- Stock never goes negative, unless the product may be sold before it is in stock.
  constraint products_stock_not_negative check (allow_backorder or stock >= 0)
);
create index if not exists products_store_idx on products (store_id);

create table if not exists orders (
  id              uuid primary key default gen_random_uuid(),
  store_id        uuid not null references stores (id),
  customer_id     uuid references auth.users (id),
  customer_email  text not null check (customer_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(customer_email) <= 254),
  order_number    text not null unique,
  status          text not null default 'pending_payment'
                  check (status in ('pending_payment', 'paid', 'delivered', 'completed', 'cancelled')),
  total_minor     bigint not null check (total_minor >= 0),
  currency        text not null check (currency ~ '^[A-Z]{3}$'),
  payment_method  text not null check (payment_method in ('card', 'mobile_money', 'cash_on_delivery')),
  attribution     jsonb not null default '{}' check (jsonb_typeof(attribution) = 'object'),
  cancel_reason   text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
create index if not exists orders_store_created_idx on orders (store_id, created_at desc);
create index if not exists orders_customer_idx on orders (customer_id) where customer_id is not null;

create table if not exists order_items (
  id                uuid primary key default gen_random_uuid(),
  order_id          uuid not null references orders (id) on delete cascade,
  product_id        uuid not null references products (id),
  quantity          int not null check (quantity between 1 and 1000),
  unit_price_minor  bigint not null check (unit_price_minor >= 0),
  unique (order_id, product_id)
);

create table if not exists payments (
  id            uuid primary key default gen_random_uuid(),
  order_id      uuid not null unique references orders (id) on delete cascade,
  store_id      uuid not null references stores (id),
  amount_minor  bigint not null check (amount_minor >= 0),
  currency      text not null check (currency ~ '^[A-Z]{3}$'),
  status        text not null default 'pending' check (status in ('pending', 'paid', 'failed', 'refunded')),
  provider      text not null default 'demo',
  provider_ref  text,
  paid_at       timestamptz,
  created_at    timestamptz not null default now()
);

create table if not exists deliveries (
  id            uuid primary key default gen_random_uuid(),
  order_id      uuid not null unique references orders (id) on delete cascade,
  store_id      uuid not null references stores (id),
  status        text not null default 'pending' check (status in ('pending', 'shipped', 'delivered', 'confirmed')),
  delivered_at  timestamptz,
  confirmed_at  timestamptz,
  created_at    timestamptz not null default now()
);

-- Stock taken for an order, one row per order line: the decrement happens once, however
-- often the handler runs, because this row can be written once.
create table if not exists stock_movements (
  order_id    uuid not null references orders (id) on delete cascade,
  product_id  uuid not null references products (id),
  quantity    int not null,
  created_at  timestamptz not null default now(),
  primary key (order_id, product_id)
);

-- The payload of an order's order.created, from the order as stored: what checkout emits,
-- and what process-event rebuilds when a buyer asks for their order's event
-- (src/engines/authorize.ts), so the two cannot drift apart.
create or replace function order_created_payload(p_order_id uuid)
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
comment on function order_created_payload(uuid) is
  'The order.created payload of an order, from the stored order and its items (checkout and process-event both use it).';

-- Checkout: the order, its items, its pending payment and delivery, and order.created,
-- in one transaction. Prices come from the products table, never from the client.
-- p_items: [{product_id, quantity}]. Returns the order and its event.
create or replace function checkout(
  p_store_id uuid, p_customer_email text, p_items jsonb, p_payment_method text,
  p_attribution jsonb default '{}', p_customer_id uuid default null
)
returns table (order_id uuid, order_number text, event_id uuid, total_minor bigint, currency text)
language plpgsql
security definer
set search_path = public, pg_catalog
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

  insert into orders (store_id, customer_id, customer_email, order_number, total_minor, currency, payment_method, attribution)
  select p_store_id, p_customer_id, lower(p_customer_email),
         'FX-' || to_char(now(), 'YYMMDD') || '-' || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 8)),
         sum(p.price_minor * (i.v ->> 'quantity')::int), v_store.currency, p_payment_method, coalesce(p_attribution, '{}')
  from jsonb_array_elements(p_items) i(v)
  join products p on p.id = (i.v ->> 'product_id')::uuid
  returning * into v_order;

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
comment on function checkout(uuid, text, jsonb, text, jsonb, uuid) is
  'Places an order: order, items (priced from products), pending payment and delivery, and the order.created event, in one transaction.';
