-- Outbound URLs: the database's half of the guard against server-side request forgery.
--
-- A URL the dispatcher will call for a store owner or an operator (a remote handler's url
-- target, an automation's webhook reaction or poll trigger) is refused when it is saved if
-- its host is literally not public: an IP literal in a loopback, private, link-local, CGNAT,
-- multicast or reserved range, in any spelling the URL parser accepts (2130706433, 0x7f.1,
-- 0177.0.0.1), or `localhost` and `*.localhost`; so are plain http, a host name not in
-- ASCII (punycode is) and credentials in the URL (`https://user:pass@host/`: a secret kept
-- in plain sight, and an old way to hide the real host after an @), whatever the allow-list
-- says. The refusal is a 22023 naming the field, answered 400. A host name is
-- checked where it is resolved, at each request (src/bus/outbound.ts, with the same ranges
-- in src/bus/outbound-addresses.ts): the database cannot know what a name will resolve to.
--
-- event_bus_settings.outbound_allow lists the exceptions (development and tests), in
-- FEYXA_OUTBOUND_ALLOW's syntax: host, host:port or CIDR; what it allows may be plain http.
-- Saving is checked by triggers: the one below on event_subscriptions, and the
-- marketplace's on its automations (refuse_non_public_url). docs/security.md.

-- The WHATWG URL parser reads a host whose last label is a number as IPv4, inet_aton style:
-- 1 to 4 parts, each decimal, 0x hex or 0-octal, the last filling the remaining bytes.
create or replace function feyxa.outbound_ipv4(p_host text)
returns inet
language plpgsql immutable strict
set search_path = pg_catalog
as $$
declare
  v_parts text[] := string_to_array(p_host, '.');
  v_count int := coalesce(array_length(v_parts, 1), 0);
  v_total numeric := 0;
  v_value numeric;
  v_part text;
begin
  if v_count between 2 and 5 and v_parts[v_count] = '' then v_count := v_count - 1; end if;
  if v_count not between 1 and 4 then return null; end if;
  for i in 1 .. v_count loop
    v_part := v_parts[i];
    if v_part ~ '^0x[0-9a-f]{0,8}$' then
      v_value := ('x' || lpad(substr(v_part, 3), 8, '0'))::bit(32)::bigint;
    elsif v_part ~ '^0[0-7]{1,11}$' then
      v_value := 0;
      for j in 2 .. length(v_part) loop v_value := v_value * 8 + substr(v_part, j, 1)::int; end loop;
    elsif v_part ~ '^[0-9]{1,10}$' then
      v_value := v_part::numeric;
    else
      return null;
    end if;
    if (i < v_count and v_value > 255) or (i = v_count and v_value >= 256 ^ (5 - v_count)) then return null; end if;
    v_total := v_total + case when i < v_count then v_value * 256 ^ (4 - i) else v_value end;
  end loop;
  return '0.0.0.0'::inet + v_total::bigint;
end;
$$;
comment on function feyxa.outbound_ipv4(text) is 'The IPv4 address a URL host spells in any form the WHATWG parser accepts (127.0.0.1, 2130706433, 0x7f.1, 0177.0.0.1); null when it is no such form.';
revoke all on function feyxa.outbound_ipv4(text) from public;
grant execute on function feyxa.outbound_ipv4(text) to service_role;

-- The special-purpose ranges (RFC 6890 and its updates), as src/bus/outbound-addresses.ts
-- lists them; for IPv6, anything outside global unicast (2000::/3) too.
create or replace function feyxa.outbound_non_public_range(p_address inet)
returns text
language sql immutable strict
set search_path = pg_catalog
as $$
  select coalesce(
    (select r.label || ' (' || r.net || ')' from (values
       ('0.0.0.0/8'::cidr, 'this network / unspecified'), ('10.0.0.0/8', 'private'), ('100.64.0.0/10', 'shared CGNAT'),
       ('127.0.0.0/8', 'loopback'), ('169.254.0.0/16', 'link-local, cloud metadata'), ('172.16.0.0/12', 'private'),
       ('192.0.0.0/24', 'IETF protocol assignments'), ('192.0.2.0/24', 'documentation'), ('192.88.99.0/24', '6to4 relay'),
       ('192.168.0.0/16', 'private'), ('198.18.0.0/15', 'benchmarking'), ('198.51.100.0/24', 'documentation'),
       ('203.0.113.0/24', 'documentation'), ('224.0.0.0/4', 'multicast'), ('240.0.0.0/4', 'reserved, broadcast'),
       -- As literals, IPv6 forms carrying an IPv4 address are refused whole: write the IPv4 address.
       ('::ffff:0:0/96', 'IPv4-mapped'), ('64:ff9b::/96', 'NAT64'), ('2002::/16', '6to4'),
       ('2001::/23', 'IETF protocol assignments'), ('2001:db8::/32', 'documentation')) r (net, label)
     where p_address <<= r.net limit 1),
    case when family(p_address) = 6 and not p_address <<= '2000::/3'::cidr
         then 'not global unicast: loopback, unique local, link-local, multicast or unspecified (' || host(p_address) || ')' end)
$$;
comment on function feyxa.outbound_non_public_range(inet) is 'The special-purpose range an address is in (loopback, private, link-local, ...), named, or null when it is public.';
revoke all on function feyxa.outbound_non_public_range(inet) from public;
grant execute on function feyxa.outbound_non_public_range(inet) to service_role;

create or replace function feyxa.outbound_host_inet(p_host text)
returns inet
language plpgsql immutable strict
set search_path = feyxa, pg_catalog
as $$
begin
  return case when p_host like '[%' then trim(both '[]' from p_host)::inet else outbound_ipv4(p_host) end;
exception when invalid_text_representation then
  return null;
end;
$$;
comment on function feyxa.outbound_host_inet(text) is 'The address a URL host or an allow-list entry spells ([v6], or IPv4 in any spelling outbound_ipv4 reads), or null when it is a name or invalid.';
revoke all on function feyxa.outbound_host_inet(text) from public;
grant execute on function feyxa.outbound_host_inet(text) to service_role;

-- Why a URL may not be saved as an outbound target, or null when it may. The host is read
-- as the URL parser reads it (the userinfo ends at the last @, a trailing dot is dropped);
-- an entry of p_allow (event_bus_settings.outbound_allow) lifts every refusal but those of a
-- malformed URL (its scheme, its characters, its host's syntax) and of credentials in it.
-- The one rule for every saved outbound URL (remote handlers' targets, automations' webhook
-- reactions and polls); src/bus/outbound.ts applies the same at each request.
create or replace function feyxa.outbound_url_refusal(p_url text, p_allow text[])
returns text
language plpgsql immutable
set search_path = feyxa, pg_catalog
as $$
declare
  v_m text[] := regexp_match(p_url, '^([a-zA-Z][a-zA-Z0-9+.-]*)://([^/?#]*)');
  v_scheme text := lower(v_m[1]);
  v_hostport text := regexp_replace(v_m[2], '^.*@', '');  -- the userinfo ends at the last @
  v_parts text[] := regexp_match(lower(v_hostport), '^(\[[0-9a-f:.]+\]|[^:\[\]]*)(?::([0-9]{0,5}))?$');
  v_host text := regexp_replace(v_parts[1], '\.$', '');
  v_port int := coalesce(nullif(v_parts[2], '')::int, case when v_scheme = 'https' then 443 else 80 end);
  v_ip inet;
  v_rule text[];
  v_entry text;
begin
  if p_url is null then return null; end if;
  if v_m is null or v_scheme not in ('http', 'https') then return 'must be an https URL'; end if;
  if strpos(p_url, chr(92)) > 0 or p_url ~ '[[:space:][:cntrl:]]' then return 'must not contain a backslash, space or control character'; end if;
  if strpos(v_m[2], '@') > 0 then return 'must not carry credentials (user:password@): keep secrets out of URLs'; end if;
  if v_parts is null or v_host = '' then return 'has no valid host'; end if;
  v_ip := outbound_host_inet(v_host);
  if v_ip is null and v_host like '[%' then return v_host || ' is not a valid IPv6 address'; end if;
  if v_ip is null and v_host ~ '(^|\.)([0-9]+|0x[0-9a-f]*)$' then return v_host || ' is not a valid IPv4 address'; end if;

  foreach v_entry in array coalesce(p_allow, '{}') loop
    if v_entry like '%/%' then
      if v_ip is not null and v_ip <<= v_entry::cidr then return null; end if;
    else
      v_rule := regexp_match(lower(v_entry), '^(\[[^\]]+\]|[^:]+)(?::([0-9]{1,5}))?$');
      if v_rule is not null and (v_rule[2] is null or v_rule[2]::int = v_port)
         and (v_rule[1] = v_host or (v_ip is not null and outbound_host_inet(v_rule[1]) = v_ip)) then
        return null;
      end if;
    end if;
  end loop;

  if v_host ~ '(^|\.)localhost$' then return v_host || ' names this machine (loopback)'; end if;
  if v_ip is not null and outbound_non_public_range(v_ip) is not null then
    return v_host || ' is a ' || outbound_non_public_range(v_ip) || ' address';
  end if;
  if v_ip is null and v_host !~ '^[a-z0-9_-]+(\.[a-z0-9_-]+)*$' then
    return v_host || ' is not an ASCII host name (write international names in punycode)';
  end if;
  if v_scheme = 'http' then return 'plain http to ' || v_host || ': use https'; end if;
  return null;
end;
$$;
comment on function feyxa.outbound_url_refusal(text,text[]) is 'Why a URL may not be saved as an outbound target (not http(s), credentials in it, localhost, a non-public IP literal in any spelling, plain http), or null; p_allow lists exceptions (host, host:port, CIDR), never for credentials.';
revoke all on function feyxa.outbound_url_refusal(text,text[]) from public;
grant execute on function feyxa.outbound_url_refusal(text,text[]) to service_role;

-- Raises the 400 of a refused URL, naming its field: what the saving triggers call.
create or replace function feyxa.refuse_non_public_url(p_url text, p_field text)
returns void
language plpgsql stable security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_reason text := outbound_url_refusal(p_url, (select s.outbound_allow from event_bus_settings s));
begin
  if v_reason is not null then
    raise exception using errcode = '22023', message = p_field || ': ' || v_reason, detail = p_field;
  end if;
end;
$$;
comment on function feyxa.refuse_non_public_url(text,text) is 'Raises 22023 naming p_field when outbound_url_refusal refuses p_url under event_bus_settings.outbound_allow.';
revoke all on function feyxa.refuse_non_public_url(text,text) from public;
grant execute on function feyxa.refuse_non_public_url(text,text) to service_role;

create or replace function feyxa.check_subscription_url()
returns trigger
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if new.target_kind = 'url' then perform refuse_non_public_url(new.target, 'target'); end if;
  return new;
end;
$$;
comment on function feyxa.check_subscription_url() is 'Trigger: a remote handler''s url target must pass outbound_url_refusal when saved.';
revoke all on function feyxa.check_subscription_url() from public;
grant execute on function feyxa.check_subscription_url() to service_role;

create trigger event_subscriptions_outbound_url before insert or update of target, target_kind on feyxa.event_subscriptions
  for each row execute function feyxa.check_subscription_url();
