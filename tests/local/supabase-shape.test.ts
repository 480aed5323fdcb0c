/**
 * The test world is a hosted project's: these are the hosted facts every other test relies
 * on (src/local/supabase-shape.sql says where Supabase sets each one).
 */
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";

describe("a test database is shaped like a hosted Supabase project", async () => {
  const { sql } = await useDatabase();

  it("runs a version Supabase runs: 17 by default, 15 in the FEYXA_TEST_PG=15 tier", async () => {
    const [{ major }] = await sql`select current_setting('server_version_num')::int / 10000 as major`;
    expect(major).toBe(process.env.FEYXA_TEST_PG === "15" ? 15 : 17);
  });

  it("connects and migrates as postgres: not a superuser, but BYPASSRLS, CREATEDB, CREATEROLE, REPLICATION", async () => {
    const [me] = await sql`select current_user as name, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole, rolreplication, rolcanlogin
                           from pg_roles where rolname = current_user`;
    expect(me).toEqual({ name: "postgres", rolsuper: false, rolbypassrls: true, rolcreatedb: true, rolcreaterole: true, rolreplication: true, rolcanlogin: true });
    const [{ owner }] = await sql`select tableowner as owner from pg_tables where schemaname = 'feyxa' and tablename = 'events_log'`;
    expect(owner).toBe("postgres");
    const [{ superuser }] = await sql`select r.rolname as superuser from pg_roles r where r.rolsuper`;
    expect(superuser).toBe("supabase_admin");
  });

  it("has the API roles as hosted: INHERIT, NOLOGIN, only service_role bypasses RLS; postgres and authenticator are members", async () => {
    const roles = await sql`select rolname, rolinherit, rolcanlogin, rolbypassrls from pg_roles
                            where rolname in ('anon', 'authenticated', 'service_role') order by rolname`;
    expect(roles).toEqual([
      { rolname: "anon", rolinherit: true, rolcanlogin: false, rolbypassrls: false },
      { rolname: "authenticated", rolinherit: true, rolcanlogin: false, rolbypassrls: false },
      { rolname: "service_role", rolinherit: true, rolcanlogin: false, rolbypassrls: true },
    ]);
    const members = await sql`select pg_has_role(m, r, 'member') as ok from unnest(array['postgres', 'authenticator']) m,
                              unnest(array['anon', 'authenticated', 'service_role']) r`;
    expect(members.every((row) => row.ok)).toBe(true);
  });

  it("grants the API roles ALL on what postgres creates in public (Supabase's default privileges)", async () => {
    await sql`create table public.shape_probe (id serial primary key)`;
    await sql`create function public.shape_probe_fn() returns int language sql as 'select 1'`;
    const [grants] = await sql`select has_table_privilege('anon', 'public.shape_probe', 'select, insert, update, delete, truncate') as t,
                                      has_sequence_privilege('anon', 'public.shape_probe_id_seq', 'usage') as s,
                                      has_function_privilege('anon', 'public.shape_probe_fn()', 'execute') as f`;
    await sql`drop table public.shape_probe; drop function public.shape_probe_fn()`.simple();
    expect(grants).toEqual({ t: true, s: true, f: true });
  });

  it("keeps auth owned by Supabase Auth, with auth.uid()/role()/jwt() reading the request's claims, NULL without", async () => {
    const [{ owner }] = await sql`select nspowner::regrole::text as owner from pg_namespace where nspname = 'auth'`;
    expect(owner).toBe("supabase_auth_admin");
    const [none] = await sql`select auth.uid() as uid, auth.role() as role, auth.jwt() as jwt`;
    expect(none).toEqual({ uid: null, role: null, jwt: null });
    const sub = crypto.randomUUID();
    const [some] = await sql.begin((tx) => tx`
      select set_config('request.jwt.claims', ${JSON.stringify({ sub, role: "authenticated" })}, true),
             auth.uid() as uid, auth.role() as role`);
    expect(some).toMatchObject({ uid: sub, role: "authenticated" });
    await expect(sql`create table auth.not_ours (id int)`).rejects.toThrow(/permission denied/);
  });

  it("has a Vault that postgres writes with vault.create_secret and reads from vault.decrypted_secrets", async () => {
    const name = `probe_${crypto.randomUUID()}`;
    await sql`select vault.create_secret('s3cret', ${name})`;
    const [row] = await sql`select decrypted_secret from vault.decrypted_secrets where name = ${name}`;
    expect(row.decrypted_secret).toBe("s3cret");
    const asAnon = sql.begin(async (tx) => {
      await tx`set local role anon`;
      return await tx`select 1 from vault.decrypted_secrets`;
    });
    await expect(asAnon).rejects.toThrow(/permission denied/);
  });
});
