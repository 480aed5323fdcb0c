-- A store's members read its alerts (issue 16: rules per tenant): the rules whose tenant is
-- theirs, those rules' states and their notices, through the hook that shows them the
-- store's events (feyxa.reader_tenants, 20261127900001). Operators still read everything.
--
-- Managing rules stays with operators (the monitor): reading a store's events does not make
-- one who may silence its alerts. An application that wants its store owners to manage
-- their rules adds a policy naming its owner role.
--
-- One policy per table and action (the operators' read folded into each), so that a read is
-- checked once, not once per permissive policy.
drop policy alert_rules_operators on feyxa.alert_rules;
create policy alert_rules_read on feyxa.alert_rules for select to authenticated
  using ((select feyxa.reader_is_operator()) or tenant_id = any ((select feyxa.reader_tenants())::uuid[]));
create policy alert_rules_insert on feyxa.alert_rules for insert to authenticated
  with check ((select feyxa.reader_is_operator()));
create policy alert_rules_update on feyxa.alert_rules for update to authenticated
  using ((select feyxa.reader_is_operator())) with check ((select feyxa.reader_is_operator()));
create policy alert_rules_delete on feyxa.alert_rules for delete to authenticated
  using ((select feyxa.reader_is_operator()));

drop policy alert_notices_operators on feyxa.alert_notices;
create policy alert_notices_read on feyxa.alert_notices for select to authenticated
  using ((select feyxa.reader_is_operator()) or tenant_id = any ((select feyxa.reader_tenants())::uuid[]));

drop policy alert_states_operators on feyxa.alert_states;
create policy alert_states_read on feyxa.alert_states for select to authenticated
  using ((select feyxa.reader_is_operator())
         or exists (select from feyxa.alert_rules r
                    where r.id = rule_id and r.tenant_id = any ((select feyxa.reader_tenants())::uuid[])));
