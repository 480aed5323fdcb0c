/**
 * Fairness between tenants (supabase/schemas/bus/flow-control.sql and claims.sql): with
 * it on, a claim serves every tenant with due events, however large another's backlog; a
 * tenant's cap on events in flight holds across dispatchers and for claims by id; turning
 * it on or off strands nothing.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { configureTenantFairness, setTenantLimit } from "../../src/bus/index.ts";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { subscribe, testBus, uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";

const { sql } = await useDatabase();
/** Per tenant: how many of its events run right now, and the most at once. */
const running = new Map<string, number>();
const most = new Map<string, number>();
const slow = defineHandler("fair.slow", async (event) => {
  const tenant = event.tenantId ?? "none";
  running.set(tenant, (running.get(tenant) ?? 0) + 1);
  most.set(tenant, Math.max(most.get(tenant) ?? 0, running.get(tenant)!));
  await new Promise((resolve) => setTimeout(resolve, 5));
  running.set(tenant, running.get(tenant)! - 1);
});
const bus = testBus(sql, [slow]);

beforeAll(async () => {
  await subscribe(sql, "fair.*", "fair.slow");
});
afterEach(async () => {
  await configureTenantFairness(sql, { enabled: false });
  await sql`delete from feyxa.tenant_limits`;
  for (let i = 0; i < 100; i++) if ((await bus.drainOnce(500)).length === 0) break;
  most.clear();
});

const flood = (tenant: string, n: number) =>
  bus.emitMany(Array.from({ length: n }, () => ({ event_type: "fair.ping", aggregate_type: "test", aggregate_id: uuid(), tenant_id: tenant })));
const tenantsOf = async (ids: string[]) =>
  (await sql<{ tenant_id: string }[]>`select tenant_id from feyxa.events_log where id in ${sql(ids)}`).map((r) => r.tenant_id);

describe("fair claims", () => {
  it("serve a tenant with a few due events ahead of another's older backlog; without fairness, oldest first", async () => {
    const [a, b] = [uuid(), uuid()];
    await flood(a, 500);
    await flood(b, 3);
    const plain = await bus.claimDue(20);
    expect((await tenantsOf(plain.map((e) => e.id))).filter((t) => t === b)).toHaveLength(0);
    await bus.release(plain.map((e) => e.id));

    await configureTenantFairness(sql, { enabled: true });
    const fair = await bus.claimDue(20);
    expect(fair).toHaveLength(20); // the batch is still full: B's share, then A's
    expect((await tenantsOf(fair.map((e) => e.id))).filter((t) => t === b)).toHaveLength(3);
    await bus.release(fair.map((e) => e.id));
  });

  it("hold a tenant's cap on events in flight across three dispatchers, and for claims by id", async () => {
    const [a, b] = [uuid(), uuid()];
    await configureTenantFairness(sql, { enabled: true, maxInFlight: 4 });
    await setTenantLimit(sql, a, 2);
    const emitted = await flood(a, 60);
    await flood(b, 60);
    // A claim by id (process-event's) takes no more than the lane's room either.
    const byId = await Promise.all(emitted.slice(0, 5).map((e) => bus.claimOne(e.eventId)));
    expect(byId.filter(Boolean)).toHaveLength(2);
    await bus.release(byId.filter((e) => e !== undefined).map((e) => e.id));

    const buses = [testBus(sql, [slow]), testBus(sql, [slow]), testBus(sql, [slow])];
    await Promise.all(buses.map(async (worker) => {
      for (let idle = 0; idle < 30;) idle = (await worker.drainOnce(10)).length === 0 ? idle + 1 : 0;
    }));
    expect(most.get(a)).toBeLessThanOrEqual(2);
    expect(most.get(b)).toBeLessThanOrEqual(4);
    const [{ open }] = await sql`select count(*)::int as open from feyxa.event_queue`;
    expect(open).toBe(0);
  });

  it("strand nothing when turned on or off with events open, nor for events without a tenant", async () => {
    const early = await flood(uuid(), 5);
    const tenantless = await bus.emit({ event_type: "fair.ping", aggregate_type: "test", aggregate_id: uuid() });
    await configureTenantFairness(sql, { enabled: true });
    const [{ lanes }] = await sql`select count(*) filter (where tenant_id is not null)::int as lanes from feyxa.event_queue`;
    expect(lanes).toBe(6);
    const late = await flood(uuid(), 5);
    await configureTenantFairness(sql, { enabled: false });
    const [{ left }] = await sql`select count(*) filter (where tenant_id is not null)::int as left from feyxa.event_queue`;
    expect(left).toBe(0);
    await configureTenantFairness(sql, { enabled: true });
    for (let i = 0; i < 20; i++) if ((await bus.drainOnce(50)).length === 0) break;
    const ids = [...early, ...late].map((e) => e.eventId).concat(tenantless.eventId);
    const statuses = await sql`select distinct status from feyxa.events_log where id in ${sql(ids)}`;
    expect(statuses.map((s) => s.status)).toEqual(["completed"]);
  });

  it("refuses bad settings, naming the field", async () => {
    await expect(configureTenantFairness(sql, { enabled: true, maxInFlight: 0 })).rejects.toMatchObject({ code: "22023", detail: "max_in_flight" });
    await expect(setTenantLimit(sql, uuid(), -1)).rejects.toMatchObject({ code: "22023", detail: "max_in_flight" });
  });
});
