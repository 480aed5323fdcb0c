-- Alert rules managed from the monitor (src/bus/functions/monitor/alerts.ts): the monitor's
-- statements run as the signed-in caller, so the operators (feyxa.reader_is_operator(), the
-- application's answer) may read and write the rules and read their states and notices;
-- nobody else sees a row. Not exposed by the Data API (schema feyxa).
grant select, insert, update, delete on feyxa.alert_rules to authenticated;
grant select on feyxa.alert_states, feyxa.alert_notices to authenticated;
create policy alert_rules_operators on feyxa.alert_rules for all to authenticated
  using (feyxa.reader_is_operator()) with check (feyxa.reader_is_operator());
create policy alert_states_operators on feyxa.alert_states for select to authenticated
  using (feyxa.reader_is_operator());
create policy alert_notices_operators on feyxa.alert_notices for select to authenticated
  using (feyxa.reader_is_operator());
