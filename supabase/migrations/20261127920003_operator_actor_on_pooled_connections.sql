-- An operator transition called by the server on a pooled connection that earlier served a
-- signed-in user failed: after that transaction's set_config('request.jwt.claims', …, true)
-- the setting reads '' rather than null, and auth.uid() casts it to jsonb ('invalid input
-- syntax for type json'; Supabase's auth.uid() does the same). The actor is now read from
-- the claims with '' taken as none, so the server acts whatever the connection served before.

create or replace function feyxa.operator_begin_action(p_action_id uuid, p_kind text, p_target jsonb)
returns jsonb
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_previous monitor_actions;
  v_claims jsonb := coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb;
begin
  perform assert_event_operator();
  if p_action_id is null then
    raise exception using errcode = '22023', message = 'action_id is required', detail = 'action_id';
  end if;
  insert into monitor_actions (id, actor_id, actor_email, kind, target)
  values (p_action_id, (v_claims ->> 'sub')::uuid, v_claims ->> 'email', p_kind, p_target)
  on conflict (id) do nothing;
  if found then
    return null;
  end if;
  select * into v_previous from monitor_actions where id = p_action_id;
  if v_previous.kind <> p_kind or v_previous.target <> p_target then
    raise exception using errcode = '22023', detail = 'action_id',
      message = format('action %s was already used for another action (%s)', p_action_id, v_previous.kind);
  end if;
  return v_previous.result || jsonb_build_object('duplicate', true);
end;
$$;
comment on function feyxa.operator_begin_action(uuid, text, jsonb) is
  'Internal to the operator transitions: checks the caller may act and records the action (its actor from the request''s claims, none for the server, whatever the connection served before); returns null when new, else the earlier result marked duplicate.';
