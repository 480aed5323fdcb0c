/**
 * SQL that restates one object of a database as it stands, read from the catalogs: what
 * `npm run db:migration` writes into the next migration for every object whose definition
 * in supabase/schemas/ differs from the one the migrations reach.
 *
 * Restated whole, because nothing of their data is at stake: functions (with every setting,
 * their comment and their grants), views, policies, triggers, indexes, comments and the
 * grants of tables, and a table that is new. What holds data (a column changed, a table
 * dropped) is left to the author, who is told so.
 */
import type { Sql, TransactionSql } from "postgres";

/** Runs `read` where every name the catalogs print comes out qualified. */
export function qualified<T>(sql: Sql, read: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`set local search_path = pg_catalog`;
    return await read(tx);
  }) as Promise<T>;
}

/** Lower-cases the keywords PostgreSQL prints in capitals, outside quotes. */
export function lowerKeywords(text: string): string {
  return text.replace(/('(?:[^']|'')*'|"[^"]*"|\$(\w*)\$[\s\S]*?\$\2\$)|\b[A-Z][A-Z_]*\b/g, (m, quoted) => quoted ?? m.toLowerCase());
}

/** A literal for SQL. */
export const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** A dollar quote that the body does not contain. */
export function dollarQuote(body: string): string {
  for (const tag of ["", "fn", "body", "sql"]) if (!body.includes(`$${tag}$`)) return `$${tag}$`;
  throw new Error("no dollar quote fits this body");
}

/** `set name = value` of a function, from one entry of proconfig (`search_path=feyxa, pg_catalog`). */
export function settingClause(entry: string): string {
  const [name, ...rest] = entry.split("=");
  const value = rest.join("=");
  if (name === "search_path") {
    const items = value === '""' || value === "" ? [] : value.split(/,\s*/);
    return `set search_path = ${items.length ? items.map((i) => (/^[a-z_][a-z0-9_]*$/.test(i) ? i : literal(i.replace(/^"|"$/g, "")))).join(", ") : "''"}`;
  }
  return `set ${name} = ${/^[a-z0-9_.]+$/i.test(value) ? value : literal(value)}`;
}

// ---- privileges -------------------------------------------------------------------------

const PRIVILEGE_NAMES: Record<string, string> = {
  r: "select", a: "insert", w: "update", d: "delete", D: "truncate", x: "references", t: "trigger", m: "maintain",
  X: "execute", U: "usage", C: "create", T: "temporary", c: "connect",
};

/** grantee → privileges (letters), from an aclitem[] as text (`anon=X/postgres`, `=X/postgres` for PUBLIC). */
export function parseAcl(items: string[]): Map<string, Set<string>> {
  const acl = new Map<string, Set<string>>();
  for (const item of items) {
    const [who, rest] = item.split("=");
    const grantee = who === "" ? "public" : who.replace(/^"|"$/g, "");
    const privileges = acl.get(grantee) ?? new Set<string>();
    for (const letter of rest.split("/")[0].replace(/\*/g, "")) privileges.add(letter);
    acl.set(grantee, privileges);
  }
  return acl;
}

/**
 * REVOKE and GRANT statements that take an object from the ACL it is created with (`from`)
 * to the one it has (`to`), the owner's own rights aside. `on` names it: `function
 * feyxa.emit_event(text)`, `table feyxa.events_log`. `all` is what "all privileges" means
 * for its kind on this server, so that a full grant reads `grant all`.
 */
export function grantStatements(on: string, from: string[], to: string[], owner: string, all: string): string[] {
  const before = parseAcl(from);
  const after = parseAcl(to);
  const statements: string[] = [];
  const names = (letters: Iterable<string>) => {
    const set = new Set(letters);
    if (all.length > 1 && [...all].every((l) => set.has(l)) && set.size === all.length) return "all";
    return [...all].filter((l) => set.has(l)).map((l) => PRIVILEGE_NAMES[l]).join(", ");
  };
  const revokes: string[] = [];
  const grants = new Map<string, string[]>();
  for (const grantee of new Set([...before.keys(), ...after.keys()])) {
    if (grantee === owner) continue;
    const had = before.get(grantee) ?? new Set<string>();
    const has = after.get(grantee) ?? new Set<string>();
    // A grantee that loses any privilege loses all, then gets back what it keeps: "revoke
    // all" names no privilege a server version lacks (MAINTAIN is 17's), so the same
    // statements hold on 15 and 17.
    const lost = [...had].some((l) => !has.has(l));
    if (lost) revokes.push(grantee);
    const given = lost ? [...has] : [...has].filter((l) => !had.has(l));
    if (given.length) {
      const what = names(given);
      grants.set(what, [...(grants.get(what) ?? []), grantee]);
    }
  }
  if (revokes.length) statements.push(`revoke all on ${on} from ${revokes.sort().join(", ")};`);
  for (const [what, who] of grants) statements.push(`grant ${what} on ${on} to ${who.sort().join(", ")};`);
  return statements;
}

/**
 * SQL: the ACL an object of `kind` ('r' relation, 'f' function, 's' sequence) owned by
 * `owner` in `namespace` is created with: the built-in default and the schema's default
 * privileges (pg_default_acl names sequences 'S').
 */
const CREATED_ACL = (kind: "r" | "f" | "s", owner: string, namespace: string) => `
  array(select distinct unnest(acldefault('${kind}', ${owner}) || coalesce(
    (select d.defaclacl from pg_default_acl d where d.defaclrole = ${owner} and d.defaclnamespace = ${namespace}
       and d.defaclobjtype = '${kind === "s" ? "S" : kind}'), '{}'))::text)`;

// ---- functions --------------------------------------------------------------------------

export interface FunctionDdl {
  /** `feyxa.emit_event(text,text,uuid)`: how GRANT, COMMENT and DROP name it. */
  signature: string;
  /** CREATE OR REPLACE FUNCTION with every setting. */
  create: string;
  /** Its arguments and result as PostgreSQL prints them: CREATE OR REPLACE cannot change these. */
  shape: string;
  comment: string | null;
  /** From the privileges it is created with to those it has. */
  grants: string[];
  acl: string[];
  owner: string;
}

/** Every function of `schemas`, restated. */
export async function functionDdls(sql: TransactionSql, schemas: string[]): Promise<Map<string, FunctionDdl>> {
  const rows = await sql`
    select p.oid::regprocedure::text as key, p.oid::regprocedure::text as signature, n.nspname as schema, p.proname as name,
           pg_get_function_arguments(p.oid) as args,
           pg_get_function_result(p.oid) as result, l.lanname as language, p.provolatile as volatility,
           p.proisstrict as strict, p.prosecdef as definer, p.proparallel as parallel, p.proleakproof as leakproof,
           p.procost as cost, p.prorows as rows, p.proretset as returns_set, p.prokind as kind,
           coalesce(p.proconfig, '{}') as config, p.prosrc as body,
           obj_description(p.oid, 'pg_proc') as comment, pg_get_userbyid(p.proowner) as owner,
           coalesce(p.proacl::text[], acldefault('f', p.proowner)::text[]) as acl,
           ${sql.unsafe(CREATED_ACL("f", "p.proowner", "p.pronamespace"))} as created_acl
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang
    where n.nspname = any(${schemas}) and p.prokind in ('f', 'p')
      and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')`;
  const ddls = new Map<string, FunctionDdl>();
  for (const f of rows) {
    const signature = f.signature as string;
    const defaultCost = ["plpgsql", "sql"].includes(f.language) ? 100 : 1;
    const attributes = [
      `language ${f.language}`,
      { i: "immutable", s: "stable", v: null }[f.volatility as string],
      f.strict ? "strict" : null,
      f.definer ? "security definer" : null,
      f.leakproof ? "leakproof" : null,
      { s: "parallel safe", r: "parallel restricted", u: null }[f.parallel as string],
      Number(f.cost) !== defaultCost ? `cost ${Number(f.cost)}` : null,
      f.returns_set && Number(f.rows) !== 1000 ? `rows ${Number(f.rows)}` : null,
    ].filter(Boolean).join(" ");
    const args = lowerKeywords(f.args).replace(/ default null::[\w. "]+?(?=,|$)/g, " default null");
    const quote = dollarQuote(f.body);
    const create = [
      `create or replace ${f.kind === "p" ? "procedure" : "function"} ${f.schema}.${f.name}(${args})`,
      ...(f.kind === "f" ? [`returns ${lowerKeywords(f.result)}`] : []),
      attributes,
      ...(f.config as string[]).map(settingClause),
      `as ${quote}${f.body}${quote};`,
    ].join("\n");
    const on = `${f.kind === "p" ? "procedure" : "function"} ${signature}`;
    ddls.set(f.key, {
      signature,
      create,
      comment: f.comment,
      shape: `${f.args} -> ${f.result}`,
      grants: grantStatements(on, f.created_acl, f.acl, f.owner, "X"),
      acl: f.acl,
      owner: f.owner,
    });
  }
  return ddls;
}

/**
 * The statements that restate a function: create, comment, grants. `was`: the function
 * as it stands before (CREATE OR REPLACE keeps its privileges and comment, so they are
 * restated from those); absent, from what a new function is created with.
 */
export function restateFunction(f: FunctionDdl, was?: FunctionDdl): string {
  const comment = f.comment !== null ? [`comment on function ${f.signature} is ${literal(f.comment)};`]
    : was?.comment != null ? [`comment on function ${f.signature} is null;`] : [];
  const grants = was ? grantStatements(`function ${f.signature}`, was.acl, f.acl, f.owner, "X") : f.grants;
  return [f.create, ...comment, ...grants].join("\n");
}

// ---- tables, views, and what hangs on them ----------------------------------------------

/** Tidies an expression PostgreSQL printed: keywords in lower case, `x = any (array['a'::text, …])` as `x in ('a', …)`. */
export function tidyExpression(text: string): string {
  return lowerKeywords(text)
    .replace(/\((\w+) = any \(array\[((?:'(?:[^']|'')*'::text(?:, )?)+)\]\)\)/g, (_m, column, list: string) => `(${column} in (${list.replace(/::text/g, "")}))`)
    .replace(/\b(\w+) = any \(array\[((?:'(?:[^']|'')*'::text(?:, )?)+)\]\)/g, (_m, column, list: string) => `${column} in (${list.replace(/::text/g, "")})`);
}

/** `check ((x > 0))` as `check (x > 0)`. */
const unwrapCheck = (def: string) => def.replace(/^check \(\((.*)\)\)( not valid)?$/s, "check ($1)$2");

export interface TableDdl {
  /** CREATE TABLE with its columns and constraints, options, RLS, comments and grants. */
  create: string;
  /** Per column, what its line says: for a reader who lays comments beside them. */
  columns: { name: string; line: string }[];
  constraints: { name: string; line: string; inline?: string }[];
  after: string[];
  name: string;
  comment: string | null;
  columnComments: Map<string, string | null>;
  acl: string[];
  owner: string;
  allPrivileges: string;
}

/** Every table of `schemas`, restated: `table <name>` → its DDL. */
export async function tableDdls(sql: TransactionSql, schemas: string[]): Promise<Map<string, TableDdl>> {
  const tables = await sql`
    select c.oid, c.oid::regclass::text as name, c.relname, c.reloptions as options, c.relrowsecurity as rls,
           c.relforcerowsecurity as force_rls, pg_get_userbyid(c.relowner) as owner, obj_description(c.oid, 'pg_class') as comment,
           coalesce(c.relacl::text[], acldefault('r', c.relowner)::text[]) as acl,
           ${sql.unsafe(CREATED_ACL("r", "c.relowner", "c.relnamespace"))} as created_acl,
           case when current_setting('server_version_num')::int >= 170000 then 'arwdDxtm' else 'arwdDxt' end as all_privileges
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = any(${schemas}) and c.relkind in ('r', 'p')
      and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')`;
  const ddls = new Map<string, TableDdl>();
  for (const t of tables) {
    const columns = await sql`
      select a.attnum, a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
             a.attidentity as identity, a.attgenerated as generated, pg_get_expr(d.adbin, d.adrelid) as default_,
             case when a.attcollation <> ty.typcollation then a.attcollation::regcollation::text end as collation,
             col_description(a.attrelid, a.attnum) as comment,
             s.oid::regclass::text as serial_sequence, pg_get_userbyid(s.relowner) as sequence_owner,
             coalesce(s.relacl, acldefault('s', s.relowner))::text[] as sequence_acl,
             ${sql.unsafe(CREATED_ACL("s", "s.relowner", "s.relnamespace"))} as sequence_created_acl
      from pg_attribute a join pg_type ty on ty.oid = a.atttypid left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      left join pg_class s on s.relkind = 'S' and s.oid = (
        select dep.objid from pg_depend dep
        where dep.classid = 'pg_class'::regclass and dep.refclassid = 'pg_class'::regclass and dep.refobjid = a.attrelid
          and dep.refobjsubid = a.attnum and dep.deptype in ('a', 'i') and dep.objid in (select oid from pg_class where relkind = 'S'))
      where a.attrelid = ${t.oid} and a.attnum > 0 and not a.attisdropped order by a.attnum`;
    const constraints = await sql`
      select c.conname as name, c.contype as type, pg_get_constraintdef(c.oid) as def, c.conkey as columns
      from pg_constraint c where c.conrelid = ${t.oid} and c.contype <> 't' order by c.contype <> 'p', c.conname`;
    const byNumber = new Map(columns.map((c) => [c.attnum as number, c.name as string]));
    const constraintLines = constraints.map((c) => {
      const def = unwrapCheck(tidyExpression(c.def));
      const only = c.columns?.length === 1 ? byNumber.get(c.columns[0]) : undefined;
      const auto = only && ({ p: `${t.relname}_pkey`, u: `${t.relname}_${only}_key`, f: `${t.relname}_${only}_fkey`, c: `${t.relname}_${only}_check` } as Record<string, string>)[c.type];
      // A one-column constraint under the name PostgreSQL gives it is written on its column, unnamed.
      const inline = auto === c.name ? def.replace(/^primary key \(\w+\)/, "primary key").replace(/^unique \(\w+\)/, "unique").replace(/^foreign key \(\w+\) /, "") : undefined;
      return { name: c.name as string, line: `constraint ${c.name} ${def}`, inline, column: inline ? only : undefined };
    });
    const columnLines = columns.map((c) => {
      const serial = c.serial_sequence && c.default_?.startsWith("nextval(") && c.serial_sequence === `${t.name.replace(/\.[^.]+$/, ".")}${t.relname}_${c.name}_seq`;
      const type = serial ? ({ bigint: "bigserial", integer: "serial", smallint: "smallserial" } as Record<string, string>)[c.type] : c.type;
      const parts = [c.name, type];
      if (c.collation) parts.push(`collate ${c.collation}`);
      if (c.identity) parts.push(`generated ${c.identity === "a" ? "always" : "by default"} as identity`);
      if (c.generated) parts.push(`generated always as (${tidyExpression(c.default_)}) stored`);
      else if (c.default_ && !serial) parts.push(`default ${tidyExpression(c.default_).replace(/^('(?:[^']|'')*')::text$/, "$1")}`);
      if (c.not_null && !constraintLines.some((k) => k.column === c.name && k.inline?.startsWith("primary key"))) parts.push("not null");
      for (const k of constraintLines) if (k.column === c.name) parts.push(k.inline!);
      return { name: c.name as string, line: parts.join(" ") };
    });
    const body = [...columnLines.map((c) => c.line), ...constraintLines.filter((k) => !k.inline).map((k) => k.line)];
    const after: string[] = [];
    if (t.options?.length) after.push(`alter table ${t.name} set (${t.options.join(", ")});`);
    if (t.rls) after.push(`alter table ${t.name} enable row level security;`);
    if (t.force_rls) after.push(`alter table ${t.name} force row level security;`);
    if (t.comment !== null) after.push(`comment on table ${t.name} is ${literal(t.comment)};`);
    for (const c of columns) if (c.comment !== null) after.push(`comment on column ${t.name}.${c.name} is ${literal(c.comment)};`);
    after.push(...grantStatements(`table ${t.name}`, t.created_acl, t.acl, t.owner, t.all_privileges));
    for (const c of columns) {
      if (c.serial_sequence) after.push(...grantStatements(`sequence ${c.serial_sequence}`, c.sequence_created_acl, c.sequence_acl, c.sequence_owner, "rwU"));
    }
    ddls.set(`table ${t.name}`, {
      create: [`create table ${t.name} (`, body.map((l) => `  ${l}`).join(",\n"), ");", ...after].join("\n"),
      columns: columnLines,
      constraints: constraintLines,
      after,
      name: t.name,
      comment: t.comment,
      columnComments: new Map(columns.map((c) => [c.name as string, c.comment as string | null])),
      acl: t.acl,
      owner: t.owner,
      allPrivileges: t.all_privileges,
    });
  }
  return ddls;
}

/** Indexes that no constraint makes, triggers, policies and views of `schemas`, each restated, by catalog key. */
export async function attachedDdls(sql: TransactionSql, schemas: string[]): Promise<Map<string, string>> {
  const ddls = new Map<string, string>();
  for (const i of await sql`
      select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def, obj_description(i.indexrelid, 'pg_class') as comment
      from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${schemas}) and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid and k.contype in ('p', 'u', 'x'))`) {
    const create = tidyExpression(i.def).replace(/ using btree /, " ").replace(/^create (unique )?index /, "create $1index ");
    ddls.set(`index ${i.name}`, [`${create};`, ...(i.comment !== null ? [`comment on index ${i.name} is ${literal(i.comment)};`] : [])].join("\n"));
  }
  for (const t of await sql`
      select t.tgrelid::regclass::text as "table", t.tgname as name, pg_get_triggerdef(t.oid, true) as def, t.tgenabled as enabled
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${schemas}) and not t.tgisinternal`) {
    const enabled = { D: "disable", R: "enable replica", A: "enable always" }[t.enabled as string];
    ddls.set(`trigger ${t.table}.${t.name}`, [`${tidyExpression(t.def)};`, ...(enabled ? [`alter table ${t.table} ${enabled} trigger ${t.name};`] : [])].join("\n"));
  }
  for (const p of await sql`
      select p.polrelid::regclass::text as "table", p.polname as name, p.polcmd as command, p.polpermissive as permissive,
             array(select case when r = 0 then 'public' else pg_get_userbyid(r) end from unnest(p.polroles) r order by 1) as roles,
             pg_get_expr(p.polqual, p.polrelid) as using_, pg_get_expr(p.polwithcheck, p.polrelid) as check_,
             obj_description(p.oid, 'pg_policy') as comment
      from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${schemas})`) {
    const command = { r: "select", a: "insert", w: "update", d: "delete", "*": "all" }[p.command as string];
    ddls.set(`policy ${p.table}.${p.name}`, [
      `create policy ${p.name} on ${p.table}${p.permissive ? "" : " as restrictive"}`,
      `  for ${command} to ${p.roles.join(", ")}`,
      ...(p.using_ !== null ? [`  using (${tidyExpression(p.using_)})`] : []),
      ...(p.check_ !== null ? [`  with check (${tidyExpression(p.check_)})`] : []),
    ].join("\n") + ";" + (p.comment !== null ? `\ncomment on policy ${p.name} on ${p.table} is ${literal(p.comment)};` : ""));
  }
  for (const v of await sql`
      select c.oid::regclass::text as name, pg_get_viewdef(c.oid, true) as query, c.reloptions as options,
             obj_description(c.oid, 'pg_class') as comment, pg_get_userbyid(c.relowner) as owner,
             coalesce(c.relacl::text[], acldefault('r', c.relowner)::text[]) as acl,
             ${sql.unsafe(CREATED_ACL("r", "c.relowner", "c.relnamespace"))} as created_acl,
             case when current_setting('server_version_num')::int >= 170000 then 'arwdDxtm' else 'arwdDxt' end as all_privileges
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${schemas}) and c.relkind = 'v'`) {
    ddls.set(`view ${v.name}`, [
      `create or replace view ${v.name}${v.options?.length ? ` with (${v.options.join(", ")})` : ""} as`,
      `${tidyExpression(v.query).replace(/;$/, "")};`,
      ...(v.comment !== null ? [`comment on view ${v.name} is ${literal(v.comment)};`] : []),
      ...grantStatements(`table ${v.name}`, v.created_acl, v.acl, v.owner, v.all_privileges),
    ].join("\n"));
  }
  return ddls;
}

/**
 * What restates a table's comments and privileges from `was` to `is`: the part of a
 * table's change that holds no data. Columns and constraints are the author's.
 */
export function restateTableAnnotations(was: TableDdl, is: TableDdl): string[] {
  const statements: string[] = [];
  if (was.comment !== is.comment) statements.push(`comment on table ${is.name} is ${is.comment === null ? "null" : literal(is.comment)};`);
  for (const [column, comment] of is.columnComments) {
    if (was.columnComments.has(column) && was.columnComments.get(column) !== comment) {
      statements.push(`comment on column ${is.name}.${column} is ${comment === null ? "null" : literal(comment)};`);
    }
  }
  statements.push(...grantStatements(`table ${is.name}`, was.acl, is.acl, is.owner, is.allPrivileges));
  return statements;
}
