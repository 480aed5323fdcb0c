/**
 * A database's definition read back from its catalogs, one entry per object, each a
 * stable text: what the schema-equality test compares (a database built from the
 * migrations against one built from supabase/schemas/) and what `npm run db:migration`
 * diffs to write the next migration.
 *
 * Every object of the project's schemas is read, with everything that makes it what it is:
 * a function's whole definition as PostgreSQL prints it (pg_get_functiondef: arguments,
 * result, language, volatility, strictness, parallel safety, security definer, every SET
 * such as search_path, jit and plan_cache_mode), its owner, ACL and comment; a table's
 * columns in order (type, collation, default, not null, identity), storage options, RLS
 * flags, owner, ACL, comments; each constraint, index, trigger and policy on its own; views
 * with their options; sequences; domains and composite types; extensions; default
 * privileges; pg_cron's jobs where pg_cron is installed; and the rows the definition seeds
 * (a fresh database holds no other rows). Objects that belong to an extension and the
 * platform's own schemas are left out.
 */
import type { Sql, TransactionSql } from "postgres";

/** Schemas that are the platform's, not the project's: never compared. */
const PLATFORM_SCHEMAS = ["pg_catalog", "information_schema", "pg_toast", "supabase_migrations", "cron", "net"];

export type ObjectKind =
  | "schema" | "extension" | "default privileges" | "type" | "sequence" | "table" | "view"
  | "constraint" | "index" | "trigger" | "policy" | "function" | "cron job" | "rows";

export interface CatalogObject {
  kind: ObjectKind;
  /** What it is called, qualified: `feyxa.emit_event(text,text,uuid)`, `feyxa.events_log.events_log_pkey`. */
  name: string;
  /** Its whole definition as one stable text. */
  definition: string;
}

/** `kind name` → object, for every object of the database's project schemas. */
export type Catalog = Map<string, CatalogObject>;

export const objectKey = (o: Pick<CatalogObject, "kind" | "name">) => `${o.kind} ${o.name}`;

/** SQL: true for a namespace of the project (not the platform's, not an extension's own). */
const projectNamespace = (column: string) => `(
  ${column} not in (select oid from pg_namespace where nspname = any ('{${PLATFORM_SCHEMAS.join(",")}}') or nspname like 'pg\\_%')
  and not exists (select 1 from pg_depend e where e.classid = 'pg_namespace'::regclass and e.objid = ${column} and e.deptype = 'e'))`;
/** SQL: true for an object that no extension owns. */
const notExtensionMember = (catalog: string, oid: string) =>
  `not exists (select 1 from pg_depend e where e.classid = '${catalog}'::regclass and e.objid = ${oid} and e.deptype = 'e')`;

/**
 * An ACL as a sorted list, so that the order grants were made in does not count. A null
 * ACL is read as the default it stands for (acldefault), so that an object whose
 * privileges were revoked and granted back to the default equals one never touched.
 */
const acl = (items: string[]) => [...items].sort().join(" ");
const lines = (fields: Record<string, unknown>) =>
  Object.entries(fields).filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => `${k}: ${v}`).join("\n");

/**
 * Reads every object of the database `sql` is connected to. Under an empty search_path
 * every name comes out qualified, whatever the session's path.
 */
export function readCatalog(sql: Sql): Promise<Catalog> {
  return sql.begin(async (tx) => {
    await tx`set local search_path = pg_catalog`;
    return await readObjects(tx);
  }) as Promise<Catalog>;
}

async function readObjects(sql: TransactionSql): Promise<Catalog> {
  const objects: CatalogObject[] = [];
  const add = (kind: ObjectKind, name: string, definition: string) => objects.push({ kind, name, definition });

  for (const s of await sql.unsafe(`
      select n.nspname as name, pg_get_userbyid(n.nspowner) as owner, coalesce(n.nspacl, acldefault('n', n.nspowner))::text[] as acl,
             obj_description(n.oid, 'pg_namespace') as comment
      from pg_namespace n where ${projectNamespace("n.oid")}`)) {
    add("schema", s.name, lines({ owner: s.owner, acl: acl(s.acl), comment: s.comment }));
  }

  for (const e of await sql.unsafe(`
      select x.extname as name, x.extnamespace::regnamespace::text as schema from pg_extension x`)) {
    add("extension", e.name, lines({ schema: e.schema }));
  }

  for (const d of await sql.unsafe(`
      select pg_get_userbyid(d.defaclrole) as role, coalesce(d.defaclnamespace::regnamespace::text, '*') as schema,
             d.defaclobjtype as type, d.defaclacl::text[] as acl
      from pg_default_acl d`)) {
    add("default privileges", `${d.role} in ${d.schema} on ${d.type}`, lines({ acl: acl(d.acl) }));
  }

  // Domains, composite types, enums (not a table's or a view's own row type).
  for (const t of await sql.unsafe(`
      select t.oid, format_type(t.oid, null) as name, t.typtype as kind, pg_get_userbyid(t.typowner) as owner,
             coalesce(t.typacl, acldefault('T', t.typowner))::text[] as acl, obj_description(t.oid, 'pg_type') as comment,
             format_type(t.typbasetype, t.typtypmod) as base, t.typnotnull as not_null, t.typdefault as default_,
             (select string_agg(c.conname || ' ' || pg_get_constraintdef(c.oid), '; ' order by c.conname)
              from pg_constraint c where c.contypid = t.oid) as checks,
             (select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' order by a.attnum)
              from pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped) as attributes,
             (select string_agg(quote_literal(l.enumlabel), ', ' order by l.enumsortorder) from pg_enum l where l.enumtypid = t.oid) as labels
      from pg_type t
      where ${projectNamespace("t.typnamespace")} and ${notExtensionMember("pg_type", "t.oid")}
        and (t.typtype in ('d', 'e') or (t.typtype = 'c' and (select relkind from pg_class where oid = t.typrelid) = 'c'))`)) {
    add("type", t.name, lines({
      kind: { d: "domain", e: "enum", c: "composite" }[t.kind as string],
      base: t.kind === "d" ? t.base : null, "not null": t.not_null ? "yes" : null, default: t.default_,
      checks: t.checks, attributes: t.attributes, labels: t.labels, owner: t.owner, acl: acl(t.acl), comment: t.comment,
    }));
  }

  for (const q of await sql.unsafe(`
      select c.oid::regclass::text as name, format_type(s.seqtypid, null) as type, s.seqstart, s.seqincrement,
             s.seqmin, s.seqmax, s.seqcache, s.seqcycle, pg_get_userbyid(c.relowner) as owner, coalesce(c.relacl, acldefault('s', c.relowner))::text[] as acl,
             (select d.refobjid::regclass::text || '.' || a.attname from pg_depend d
              join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
              where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')) as owned_by
      from pg_class c join pg_sequence s on s.seqrelid = c.oid
      where c.relkind = 'S' and ${projectNamespace("c.relnamespace")} and ${notExtensionMember("pg_class", "c.oid")}`)) {
    add("sequence", q.name, lines({
      type: q.type, start: q.seqstart, increment: q.seqincrement, min: q.seqmin, max: q.seqmax, cache: q.seqcache,
      cycle: q.seqcycle ? "yes" : null, "owned by": q.owned_by, owner: q.owner, acl: acl(q.acl),
    }));
  }

  // Tables and views, with their columns in order.
  for (const r of await sql.unsafe(`
      select c.oid, c.oid::regclass::text as name, c.relkind as kind, c.relpersistence as persistence,
             c.reloptions::text[] as options, c.relrowsecurity as rls, c.relforcerowsecurity as force_rls,
             c.relreplident as replica_identity, pg_get_userbyid(c.relowner) as owner,
             coalesce(c.relacl, acldefault('r', c.relowner))::text[] as acl,
             obj_description(c.oid, 'pg_class') as comment,
             case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid) end as query,
             (select string_agg(concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
                       case when a.attcollation <> t.typcollation then 'collate ' || a.attcollation::regcollation::text end,
                       case when a.attidentity <> '' then 'identity ' || a.attidentity::text end,
                       case when a.attgenerated <> '' then 'generated ' || pg_get_expr(ad.adbin, ad.adrelid) end,
                       case when a.attgenerated = '' then 'default ' || pg_get_expr(ad.adbin, ad.adrelid) end,
                       case when a.attnotnull then 'not null' end,
                       case when a.attacl is not null then 'acl ' || array_to_string(array(select unnest(a.attacl::text[]) order by 1), ' ') end,
                       case when col_description(c.oid, a.attnum) is not null then 'comment ' || quote_literal(col_description(c.oid, a.attnum)) end),
                     E'\n  ' order by a.attnum)
              from pg_attribute a join pg_type t on t.oid = a.atttypid
              left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
              where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns
      from pg_class c
      where c.relkind in ('r', 'p', 'v', 'm', 'f') and ${projectNamespace("c.relnamespace")} and ${notExtensionMember("pg_class", "c.oid")}`)) {
    const view = r.kind === "v" || r.kind === "m";
    add(view ? "view" : "table", r.name, lines({
      kind: { r: null, p: "partitioned", v: null, m: "materialized", f: "foreign" }[r.kind as string],
      unlogged: r.persistence === "u" ? "yes" : null,
      columns: `\n  ${r.columns ?? ""}`, query: r.query, options: r.options?.join(", "),
      rls: r.rls ? (r.force_rls ? "enabled, forced" : "enabled") : null,
      "replica identity": r.replica_identity === "d" ? null : r.replica_identity,
      owner: r.owner, acl: acl(r.acl), comment: r.comment,
    }));
  }

  for (const k of await sql.unsafe(`
      select c.conrelid::regclass::text || '.' || c.conname as name, pg_get_constraintdef(c.oid) as def,
             obj_description(c.oid, 'pg_constraint') as comment
      from pg_constraint c
      where c.conrelid <> 0 and c.contype <> 't' and ${projectNamespace("c.connamespace")}`)) {
    add("constraint", k.name, lines({ definition: k.def, comment: k.comment }));
  }

  for (const i of await sql.unsafe(`
      select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def,
             obj_description(i.indexrelid, 'pg_class') as comment
      from pg_index i join pg_class c on c.oid = i.indexrelid
      where ${projectNamespace("c.relnamespace")} and ${notExtensionMember("pg_class", "i.indrelid")}`)) {
    add("index", i.name, lines({ definition: i.def, comment: i.comment }));
  }

  for (const t of await sql.unsafe(`
      select t.tgrelid::regclass::text || '.' || t.tgname as name, pg_get_triggerdef(t.oid) as def,
             t.tgenabled as enabled, obj_description(t.oid, 'pg_trigger') as comment
      from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where not t.tgisinternal and ${projectNamespace("c.relnamespace")}`)) {
    add("trigger", t.name, lines({ definition: t.def, enabled: t.enabled === "O" ? null : t.enabled, comment: t.comment }));
  }

  for (const p of await sql.unsafe(`
      select p.polrelid::regclass::text || '.' || p.polname as name, p.polcmd as command, p.polpermissive as permissive,
             array(select case when r = 0 then 'public' else pg_get_userbyid(r) end from unnest(p.polroles) r order by 1) as roles,
             pg_get_expr(p.polqual, p.polrelid) as using_, pg_get_expr(p.polwithcheck, p.polrelid) as check_,
             obj_description(p.oid, 'pg_policy') as comment
      from pg_policy p join pg_class c on c.oid = p.polrelid
      where ${projectNamespace("c.relnamespace")}`)) {
    add("policy", p.name, lines({
      for: { r: "select", a: "insert", w: "update", d: "delete", "*": "all" }[p.command as string],
      as: p.permissive ? null : "restrictive", to: p.roles.join(", "), using: p.using_, "with check": p.check_, comment: p.comment,
    }));
  }

  for (const f of await sql.unsafe(`
      select p.oid::regprocedure::text as name, pg_get_functiondef(p.oid) as def, pg_get_userbyid(p.proowner) as owner,
             coalesce(p.proacl, acldefault('f', p.proowner))::text[] as acl, obj_description(p.oid, 'pg_proc') as comment
      from pg_proc p
      where p.prokind in ('f', 'p') and ${projectNamespace("p.pronamespace")} and ${notExtensionMember("pg_proc", "p.oid")}`)) {
    add("function", f.name, `${f.def.trim()}\n${lines({ owner: f.owner, acl: acl(f.acl), comment: f.comment })}`);
  }

  const [{ cron }] = await sql`select to_regclass('cron.job') is not null as cron`;
  if (cron) {
    for (const j of await sql`select jobname, schedule, command, database, username, active from cron.job`) {
      add("cron job", j.jobname ?? `#${j.command}`, lines({
        schedule: j.schedule, command: j.command.trim().replace(/\s+/g, " "), database: j.database, username: j.username, active: j.active,
      }));
    }
  }

  for (const row of await seededRows(sql)) add("rows", row.table, row.rows);

  return new Map(objects.map((o) => [objectKey(o), o]));
}

/**
 * The rows of every project table that holds any, each as JSON, sorted. Columns that
 * differ from one build to the next (times, random ids) are left out: what is compared
 * is what a definition seeds, not when.
 */
async function seededRows(sql: TransactionSql): Promise<{ table: string; rows: string }[]> {
  const tables = await sql.unsafe(`
      select c.oid::regclass::text as name,
             array(select quote_ident(a.attname) from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                     and coalesce(pg_get_expr(d.adbin, d.adrelid), '') !~ '(random|uuid)'
                     and a.atttypid not in ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                   order by a.attnum) as columns
      from pg_class c
      where c.relkind in ('r', 'p') and ${projectNamespace("c.relnamespace")} and ${notExtensionMember("pg_class", "c.oid")}`);
  const found: { table: string; rows: string }[] = [];
  for (const t of tables) {
    const rows = await sql.unsafe(`select (${t.columns.length ? `json_build_object(${t.columns.map((c: string) => `'${c}', ${c}`).join(", ")})` : "'{}'::json"})::text as row from ${t.name}`);
    if (rows.length) found.push({ table: t.name, rows: rows.map((r) => r.row).sort().join("\n") });
  }
  return found;
}

/** One difference between two catalogs. */
export interface CatalogDifference {
  key: string;
  /** Only in the first catalog, only in the second, or in both with other definitions. */
  change: "only in first" | "only in second" | "differs";
  first?: CatalogObject;
  second?: CatalogObject;
}

/** What differs between two catalogs, object by object, in key order. */
export function compareCatalogs(first: Catalog, second: Catalog): CatalogDifference[] {
  const keys = [...new Set([...first.keys(), ...second.keys()])].sort();
  return keys.flatMap((key): CatalogDifference[] => {
    const a = first.get(key);
    const b = second.get(key);
    if (!b) return [{ key, change: "only in first", first: a }];
    if (!a) return [{ key, change: "only in second", second: b }];
    return a.definition === b.definition ? [] : [{ key, change: "differs", first: a, second: b }];
  });
}

/** A difference for a reader: the object, and the lines on each side that differ. */
export function describeDifference(d: CatalogDifference, names: [string, string]): string {
  if (d.change !== "differs") return `${d.key}: only in ${d.change === "only in first" ? names[0] : names[1]}`;
  const a = d.first!.definition.split("\n");
  const b = d.second!.definition.split("\n");
  const onlyA = a.filter((l) => !b.includes(l)).map((l) => `  ${names[0]}: ${l}`);
  const onlyB = b.filter((l) => !a.includes(l)).map((l) => `  ${names[1]}: ${l}`);
  const body = [...onlyA, ...onlyB];
  return `${d.key} differs\n${body.length ? body.join("\n") : "  (the same lines in another order)"}`;
}
