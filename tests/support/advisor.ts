/**
 * The checks of Supabase's Security Advisor (the `splinter` project, supabase/splinter,
 * lints/NNNN_*.sql) that apply to this project, written again against pg_catalog. Each
 * returns one finding per offending object, as `lint object`; tests/security/advisor.test.ts
 * fails on any finding not in its allow-list.
 *
 * Where we differ from splinter, it says so at the check. The exposed schemas are those
 * PostgREST serves on a hosted project by default (`public`; `graphql_public` holds no
 * object of ours). Not reproduced: 0019 (pgmq queues), 0025 (storage buckets), 0026/0027
 * (pg_graphql, not installed), and the performance-only lints other than 0003.
 */
import type { Sql } from "../../src/bus/types.ts";

/** Splinter skips these schemas: Supabase's own and extensions'. */
const SYSTEM_SCHEMAS = `('auth', 'cron', 'extensions', 'graphql', 'graphql_public', 'information_schema', 'net', 'pgbouncer',
  'pg_catalog', 'pg_toast', 'pgsodium', 'pgsodium_masks', 'realtime', 'storage', 'supabase_functions', 'supabase_migrations', 'vault')`;
/** Relations and functions of ours: not in a system schema, not owned by an extension. */
const OURS = (oid: string, ns: string) =>
  `${ns} not in ${SYSTEM_SCHEMAS} and ${ns} not like 'pg\\_temp%'
   and not exists (select from pg_depend d where d.objid = ${oid} and d.deptype = 'e')`;
const API_READS = (oid: string) => `(has_table_privilege('anon', ${oid}, 'SELECT') or has_table_privilege('authenticated', ${oid}, 'SELECT'))`;
const INVOKER = (c: string) => `coalesce(${c}.reloptions::text[], '{}') && array['security_invoker=1', 'security_invoker=true', 'security_invoker=yes', 'security_invoker=on']`;
/** Column names that splinter's 0023 treats as sensitive (credentials, identity papers, cards, health, devices). */
const SENSITIVE = `array['password', 'passwd', 'pwd', 'passphrase', 'secret', 'secret_key', 'private_key', 'api_key', 'apikey',
  'auth_key', 'token', 'jwt', 'access_token', 'refresh_token', 'oauth_token', 'session_token', 'bearer_token', 'auth_code',
  'session_id', 'session_key', 'session_secret', 'recovery_code', 'backup_code', 'verification_code', 'otp', 'two_factor',
  '2fa_secret', '2fa_code', 'ssn', 'social_security', 'social_security_number', 'driver_license', 'drivers_license',
  'license_number', 'passport_number', 'passport_id', 'national_id', 'tax_id', 'credit_card', 'card_number', 'cvv', 'cvc',
  'cvn', 'bank_account', 'account_number', 'routing_number', 'iban', 'swift_code', 'bic', 'health_record', 'medical_record',
  'patient_id', 'insurance_number', 'health_insurance', 'medical_insurance', 'treatment', 'mac_address', 'macaddr', 'imei',
  'device_uuid', 'pgp_key', 'gpg_key', 'ssh_key', 'certificate', 'license_key', 'activation_key', 'facial_recognition']`;

/** lint name → query returning `object` (schema-qualified name, or table.policy, or function signature). */
export const LINTS: Record<string, string> = {
  // 0002 auth_users_exposed: a view or materialized view in the API that reads auth.users
  // and is not a security-invoker view (which would be held to auth.users' own grants).
  "0002_auth_users_exposed": `
    select distinct c.oid::regclass::text as object
    from pg_depend d join pg_rewrite r on r.oid = d.objid join pg_class c on c.oid = r.ev_class
    where d.refobjid = 'auth.users'::regclass and c.relnamespace = 'public'::regnamespace
      and ${API_READS("c.oid")} and (c.relkind = 'm' or (c.relkind = 'v' and not ${INVOKER("c")}))`,

  // 0003 auth_rls_initplan: a policy calling auth.uid()/jwt()/role()/email() or
  // current_setting() bare, so it runs once per row instead of once per query as an
  // initplan `(select auth.uid())`. Stricter than splinter: every call must be wrapped,
  // not just one of them.
  "0003_auth_rls_initplan": `
    select p.schemaname || '.' || p.tablename || '.' || p.policyname as object
    from pg_policies p join pg_class c on c.oid = (quote_ident(p.schemaname) || '.' || quote_ident(p.tablename))::regclass
    cross join lateral (values (coalesce(p.qual, '') || ' ' || coalesce(p.with_check, ''))) e(expr)
    where c.relrowsecurity and ${OURS("c.oid", "p.schemaname")}
      and regexp_count(e.expr, '(auth\\.(uid|jwt|role|email)|current_setting)\\(')
        > regexp_count(e.expr, 'SELECT (auth\\.(uid|jwt|role|email)|current_setting)\\(', 1, 'i')`,

  // 0007 policy_exists_rls_disabled: policies written on a table whose RLS is off, so none applies.
  "0007_policy_exists_rls_disabled": `
    select distinct c.oid::regclass::text as object
    from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not c.relrowsecurity and ${OURS("c.oid", "n.nspname")}`,

  // 0008 rls_enabled_no_policy (INFO in splinter): RLS on and no policy. Narrowed to tables
  // an API role still holds a privilege on: with RLS on, no policy and no grant, a table
  // is deliberately server-only; with a grant left over, someone meant to open it and didn't.
  "0008_rls_enabled_no_policy": `
    select c.oid::regclass::text as object
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and c.relrowsecurity and ${OURS("c.oid", "n.nspname")}
      and not exists (select from pg_policy p where p.polrelid = c.oid)
      and exists (select from unnest(array['anon', 'authenticated']) r(role), unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) k(priv)
                  where has_table_privilege(r.role, c.oid, k.priv))`,

  // 0010 security_definer_view: a view the API roles may read that runs with its owner's
  // rights, so the owner's (here: BYPASSRLS postgres) RLS applies instead of the caller's.
  "0010_security_definer_view": `
    select c.oid::regclass::text as object
    from pg_class c
    where c.relkind = 'v' and c.relnamespace = 'public'::regnamespace and ${API_READS("c.oid")} and not ${INVOKER("c")}
      and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e')`,

  // 0011 function_search_path_mutable: a function without its own search_path setting
  // resolves names through the caller's, which a caller can point at objects of theirs.
  "0011_function_search_path_mutable": `
    select p.oid::regprocedure::text as object
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where ${OURS("p.oid", "n.nspname")}
      and not exists (select from unnest(coalesce(p.proconfig, '{}')) s where s like 'search_path=%')`,

  // 0013 rls_disabled_in_public: a table of the API without RLS. Stricter than splinter,
  // which asks only about SELECT: any privilege of an API role counts (TRUNCATE and
  // INSERT need no read).
  "0013_rls_disabled_in_public": `
    select c.oid::regclass::text as object
    from pg_class c
    where c.relkind in ('r', 'p') and c.relnamespace = 'public'::regnamespace and not c.relrowsecurity
      and exists (select from unnest(array['anon', 'authenticated']) r(role), unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) k(priv)
                  where has_table_privilege(r.role, c.oid, k.priv))`,

  // 0014 extension_in_public: extensions belong in `extensions`, out of the API.
  "0014_extension_in_public": `
    select e.extname as object from pg_extension e where e.extnamespace = 'public'::regnamespace`,

  // 0015 rls_references_user_metadata: user_metadata is writable by the user, so a policy must not trust it.
  "0015_rls_references_user_metadata": `
    select p.schemaname || '.' || p.tablename || '.' || p.policyname as object
    from pg_policies p
    where p.schemaname not in ${SYSTEM_SCHEMAS}
      and (coalesce(p.qual, '') || coalesce(p.with_check, '')) ~ '(auth\\.jwt\\(\\)|request\\.jwt\\.claims).*user_metadata'`,

  // 0016 materialized_view_in_api / 0017 foreign_table_in_api: neither has RLS.
  "0016_0017_unprotected_relation_in_api": `
    select c.oid::regclass::text as object
    from pg_class c
    where c.relkind in ('m', 'f') and c.relnamespace = 'public'::regnamespace and ${API_READS("c.oid")}`,

  // 0023 sensitive_columns_exposed: a relation the API reads without RLS (a table with RLS
  // off, or, beyond splinter, a view that is not security-invoker) with a column named like
  // a credential or an identity document.
  "0023_sensitive_columns_exposed": `
    select distinct c.oid::regclass::text as object
    from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where c.relnamespace = 'public'::regnamespace and ${API_READS("c.oid")}
      and ((c.relkind in ('r', 'p') and not c.relrowsecurity) or (c.relkind = 'v' and not ${INVOKER("c")}) or c.relkind in ('m', 'f'))
      and replace(lower(a.attname), '-', '_') = any (${SENSITIVE})`,

  // 0024 rls_policy_always_true: a permissive write policy for the API roles that lets every row through.
  "0024_rls_policy_always_true": `
    select p.schemaname || '.' || p.tablename || '.' || p.policyname as object
    from pg_policies p
    where p.schemaname not in ${SYSTEM_SCHEMAS} and p.permissive = 'PERMISSIVE' and p.cmd <> 'SELECT'
      and (p.roles && array['public', 'anon', 'authenticated']::name[])
      and (coalesce(p.with_check, p.qual, 'true') in ('true', '(true)') or (p.cmd <> 'INSERT' and coalesce(p.qual, 'true') in ('true', '(true)')))`,

  // 0028 anon_security_definer_function_executable / 0029 authenticated_…: a SECURITY
  // DEFINER function of the API that anon / a signed-in user may call (/rest/v1/rpc/<name>):
  // it runs with its owner's rights, past RLS.
  "0028_anon_security_definer_function_executable": `
    select p.oid::regprocedure::text as object from pg_proc p
    where p.prosecdef and p.pronamespace = 'public'::regnamespace and has_function_privilege('anon', p.oid, 'EXECUTE')`,
  "0029_authenticated_security_definer_function_executable": `
    select p.oid::regprocedure::text as object from pg_proc p
    where p.prosecdef and p.pronamespace = 'public'::regnamespace and has_function_privilege('authenticated', p.oid, 'EXECUTE')`,
};

/** Every finding on the database, as "lint object", sorted. */
export async function runAdvisor(sql: Sql): Promise<string[]> {
  const findings: string[] = [];
  for (const [lint, query] of Object.entries(LINTS)) {
    for (const row of await sql.unsafe<{ object: string }[]>(query)) findings.push(`${lint} ${row.object}`);
  }
  return findings.sort();
}
