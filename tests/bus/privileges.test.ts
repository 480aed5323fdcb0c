import { describe, expect, it } from "vitest";
import type { Sql } from "../../src/bus/types.ts";
import { useDatabase } from "../support/database.ts";
import { uuid } from "../support/bus.ts";
import { asApiRole } from "../support/as-role.ts";

const { sql } = await useDatabase();

describe("bus privileges", () => {
  for (const role of ["anon", "authenticated"] as const) {
    it(`${role} can neither emit nor claim`, async () => {
      expect(await asApiRole(sql, role, undefined, (tx) => tx`select feyxa.emit_event('order.created', 'order', ${uuid()}::uuid, null, '{}'::jsonb)`)).toBe("denied:42501");
      expect(await asApiRole(sql, role, undefined, (tx) => tx`select * from feyxa.claim_events('me', 10)`)).toBe("denied:42501");
    });
  }

  it("service_role can emit and claim", async () => {
    expect(await asApiRole(sql, "service_role", undefined, (tx) => tx`select feyxa.emit_event('order.created', 'order', ${uuid()}::uuid, null, '{}'::jsonb) as id`)).toHaveLength(1);
    expect(await asApiRole(sql, "service_role", undefined, (tx) => tx`select * from feyxa.claim_events('me', 10)`)).toBeInstanceOf(Array);
  });

  it("reads: anon nothing, a store member its stores' events, an admin everything", async () => {
    const [member, admin, stranger] = [uuid(), uuid(), uuid()];
    await sql`insert into auth.users (id, email) values (${member}, 'm@example.com'), (${admin}, 'a@example.com'), (${stranger}, 's@example.com')`;
    const [storeA] = await sql`insert into stores (name, slug) values ('A', 'store-a') returning id`;
    const [storeB] = await sql`insert into stores (name, slug) values ('B', 'store-b') returning id`;
    await sql`insert into store_members (store_id, user_id, role) values (${storeA.id}, ${member}, 'staff')`;
    await sql`insert into marketplace_admins (user_id) values (${admin})`;
    for (const store of [storeA.id, storeB.id]) {
      await sql`select feyxa.emit_event('order.created', 'order', ${uuid()}::uuid, ${store}::uuid, '{}'::jsonb)`;
    }
    const visible = (tx: Sql) => tx`select tenant_id from feyxa.events_log where tenant_id in (${storeA.id}, ${storeB.id})`;
    expect(await asApiRole(sql, "anon", undefined, visible)).toBe("denied:42501");
    expect(await asApiRole(sql, "authenticated", stranger, visible)).toHaveLength(0);
    expect(await asApiRole(sql, "authenticated", member, visible)).toEqual([{ tenant_id: storeA.id }]);
    expect(await asApiRole(sql, "authenticated", admin, visible)).toHaveLength(2);
  });
});
