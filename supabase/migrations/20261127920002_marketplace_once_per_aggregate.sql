-- The marketplace's once-per-aggregate event types, set by the marketplace: each is a fact
-- that happens once to its aggregate, so an emit without a key is keyed type:aggregate_id.
-- (The bus's released first migration seeded a list naming shop types; since …900001 the
-- bus's own default is empty, and this is where the list comes from.)
update feyxa.event_bus_settings
set once_per_aggregate = array[
  'delivery.confirmed', 'delivery.delivered', 'order.cancelled', 'order.created',
  'payment.paid', 'payout.requested', 'ticket.created'
];
