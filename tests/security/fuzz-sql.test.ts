/**
 * The SQL functions `anon` or a signed-in user may call: the Data API's (in `public`) and
 * the bus's the monitor calls as its signed-in user (in `feyxa`), listed from pg_catalog,
 * as api-surface.test.ts lists them, so a function granted tomorrow is fuzzed tomorrow; each argument in turn given the hostile values of the HTTP fuzz: NUL, JSON
 * nested 10,000 deep, 1e400, -1e400, 12345678901234567890123, -0, 1e-400, a megabyte,
 * injection strings. Called as PostgREST would (role and request.jwt.claims) by anon, a
 * signed-in stranger and an admin: each call returns or is refused with a data (22xxx),
 * integrity (23xxx), privilege (42501), program-limit (54xxx) or raised (P0001/P0002/55000)
 * error, never an internal error (XX000), a timeout or a crash; the stranger's and anon's
 * calls are committed, and no row is stored anywhere in `public` or `feyxa`.
 */
import { describe, expect, it } from "vitest";
import type { Sql } from "../../src/bus/types.ts";
import { asApiRole, type ApiRole } from "../support/as-role.ts";
import { uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";
import { rowCounts } from "../support/fuzz.ts";
import { openShop } from "../support/marketplace.ts";

const { sql } = await useDatabase();
const [stranger, admin] = [uuid(), uuid()];
for (const id of [stranger, admin]) await sql`insert into auth.users (id, email) values (${id}, ${`${id}@example.com`})`;
await sql`insert into marketplace_admins (user_id) values (${admin})`;
const shop = await openShop(sql, [{ name: "Fig", price: 100, stock: 5 }]);
const [order] = await sql`select * from checkout(${shop.storeId}::uuid, 'f@example.com',
  ${sql.json([{ product_id: shop.products.Fig, quantity: 1 }])}, 'card', '{}'::jsonb, null)`;

const callable = await sql<{ name: string; signature: string; types: string[] }[]>`
  select format('%I.%I', p.pronamespace::regnamespace, p.proname) as name, p.oid::regprocedure::text as signature,
         array(select format_type(t, null) from unnest(p.proargtypes) t) as types
  from pg_proc p
  where p.pronamespace in ('public'::regnamespace, 'feyxa'::regnamespace) and p.prokind = 'f'
    and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
    and (has_function_privilege('anon', p.oid, 'EXECUTE') or has_function_privilege('authenticated', p.oid, 'EXECUTE'))
  order by 2`;

/** A valid value of each argument type (an existing event where a uuid is asked), as text. */
const VALID: Record<string, string> = {
  uuid: order.event_id, "uuid[]": `{${order.event_id}}`, text: "order.created", integer: "1", boolean: "false", jsonb: "{}", json: "{}",
  "timestamp with time zone": new Date().toISOString(),
};
const HOSTILE = [
  "a\u0000b", "\u0000", `${"[".repeat(10_000)}${"]".repeat(10_000)}`, `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`,
  "1e400", "-1e400", "12345678901234567890123", "-0", "1e-400", "NaN", "Infinity", "x".repeat(1_000_000),
  "' or 1=1 --", "$..*", "\ud800", "00000000-0000-0000-0000-00000000000g", "",
];
/** Refusals a caller may get: data, integrity, privilege, program limit, and the functions' own raised errors. */
const REFUSAL = /^(22|23|54|42501$|P0001$|P0002$|55000$)/;

/** Calls `signature` with `args` as `role`/`sub`, committing unless `rollback`; the SQLSTATE of a refusal, or "ok". */
async function call(role: ApiRole, sub: string | undefined, name: string, types: string[], args: (string | null)[], rollback: boolean): Promise<string> {
  const text = `select ${name}(${types.map((t, i) => `$${i + 1}::text::${t}`).join(", ")})`;
  const run = async (tx: Sql) => {
    await tx`select set_config('statement_timeout', '5s', true)`;
    await tx.unsafe(text, args as string[]);
    return "ok";
  };
  if (rollback) return String(await asApiRole(sql, role, sub, run)).replace(/^denied:/, "");
  try {
    return await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(sub ? { sub, role } : { role })}, true)`;
      await tx.unsafe(`set local role ${role}`);
      return await run(tx as unknown as Sql);
    }) as string;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!code) throw error;
    return code;
  }
}

describe("the SQL functions the Data API exposes, with hostile arguments", () => {
  it("lists what anon and signed-in users may call", () => {
    expect(callable.map((f) => f.name)).toContain("feyxa.monitor_redrive_dead");
    for (const f of callable) for (const t of f.types) expect(Object.keys(VALID), `${f.signature}: no valid ${t}`).toContain(t);
  });

  const callers: [string, ApiRole, string | undefined, boolean][] = [
    ["anon", "anon", undefined, false], ["a signed-in stranger", "authenticated", stranger, false], ["an admin", "authenticated", admin, true],
  ];
  for (const [who, role, sub, rollback] of callers) {
    it(`as ${who}: every argument of every callable function, each hostile value: a refusal or an answer, never an internal error; nothing stored`, async () => {
      const before = await rowCounts(sql);
      const failures: string[] = [];
      for (const f of callable) {
        const valid = await call(role, sub, f.name, f.types, f.types.map((t) => VALID[t]), rollback); // functions without arguments too
        if (valid !== "ok" && !REFUSAL.test(valid)) failures.push(`${f.signature} with valid arguments: ${valid}`);
        for (let i = 0; i < f.types.length; i++) {
          for (const value of [...HOSTILE, null]) {
            const args: (string | null)[] = f.types.map((t) => VALID[t]);
            args[i] = value;
            const outcome = await call(role, sub, f.name, f.types, args, rollback);
            if (outcome !== "ok" && !REFUSAL.test(outcome)) failures.push(`${f.signature} arg ${i + 1}=${JSON.stringify(value)?.slice(0, 30)}: ${outcome}`);
          }
        }
      }
      expect(failures.slice(0, 20)).toEqual([]);
      if (!rollback) expect(await rowCounts(sql)).toBe(before);
    }, 60_000);
  }
});
