import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";
import { uuid } from "../support/bus.ts";

const { sql } = await useDatabase();

/** Runs a statement as an API role, as PostgREST would, in a transaction that rolls back. */
async function asRole(role: string, statement: (tx: typeof sql) => Promise<unknown>, claims: Record<string, unknown> = {}): Promise<unknown> {
  let result: unknown;
  const rollback = new Error("rollback");
  try {
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ role, ...claims })}, true)`;
      await tx.unsafe(`set local role ${role}`);
      result = await statement(tx as unknown as typeof sql);
      throw rollback;
    });
  } catch (error) {
    if (error === rollback) return result;
    return (error as { code?: string }).code;
  }
}

describe("bus privileges", () => {
  for (const role of ["anon", "authenticated"]) {
    it(`${role} can neither emit nor claim`, async () => {
      expect(await asRole(role, (tx) => tx`select emit_event('order.created', 'order', ${uuid()}::uuid, null, '{}'::jsonb)`)).toBe("42501");
      expect(await asRole(role, (tx) => tx`select * from claim_events('me', 10)`)).toBe("42501");
    });
  }

  it("service_role can emit and claim", async () => {
    expect(await asRole("service_role", (tx) => tx`select emit_event('order.created', 'order', ${uuid()}::uuid, null, '{}'::jsonb) as id`)).toHaveLength(1);
    expect(await asRole("service_role", (tx) => tx`select * from claim_events('me', 10)`)).toBeInstanceOf(Array);
  });

  it("reads: anon nothing, a store member its stores' events, an admin everything", async () => {
    const [member, admin, stranger] = [uuid(), uuid(), uuid()];
    await sql`insert into auth.users (id, email) values (${member}, 'm@example.com'), (${admin}, 'a@example.com'), (${stranger}, 's@example.com')`;
    const [storeA] = await sql`insert into stores (name, slug) values ('A', 'store-a') returning id`;
    const [storeB] = await sql`insert into stores (name, slug) values ('B', 'store-b') returning id`;
    await sql`insert into store_members (store_id, user_id, role) values (${storeA.id}, ${member}, 'staff')`;
    await sql`insert into marketplace_admins (user_id) values (${admin})`;
    for (const store of [storeA.id, storeB.id]) {
      await sql`select emit_event('order.created', 'order', ${uuid()}::uuid, ${store}::uuid, '{}'::jsonb)`;
    }
    const visible = (tx: typeof sql) => tx`select store_id from events_log where store_id in (${storeA.id}, ${storeB.id})`;
    expect(await asRole("anon", visible)).toBe("42501");
    expect(await asRole("authenticated", visible, { sub: stranger })).toHaveLength(0);
    expect(await asRole("authenticated", visible, { sub: member })).toEqual([{ store_id: storeA.id }]);
    expect(await asRole("authenticated", visible, { sub: admin })).toHaveLength(2);
  });
});
