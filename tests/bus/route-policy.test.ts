/**
 * Retry policies per route, and the rate limits' token buckets
 * (supabase/schemas/bus/routes.sql, completion.sql, rate-limits.sql): a route's own
 * attempts and backoff override the bus's; a handler that spends its attempts makes the
 * event dead while another keeps the event's count; a bucket hands out its burst, then
 * says how long to wait, across connections.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { countingHandler, eventRow, makeDue, subscribe, testBus, uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";

const { sql } = await useDatabase();
const strict = countingHandler("policy.strict", () => new Error("strict is down"));
const lenient = countingHandler("policy.lenient", () => new Error("lenient is down"));
const bus = testBus(sql, [strict.handler, lenient.handler]);

beforeAll(async () => {
  await subscribe(sql, "policy.strict_only", "policy.strict");
  await subscribe(sql, "policy.lenient_only", "policy.lenient");
  const [{ n }] = await sql`select feyxa.set_route_policy('policy.strict', p_max_attempts => 2, p_retry_base => interval '2 seconds',
                                                          p_retry_factor => 10, p_retry_cap => interval '5 seconds', p_retry_jitter => 0) as n`;
  expect(n).toBe(1);
});

const emit = async (type: string) => (await bus.emit({ event_type: type, aggregate_type: "test", aggregate_id: uuid() })).eventId;

describe("retry policy per route", () => {
  it("uses the route's backoff (base, factor, cap) and makes the event dead once the handler spent its attempts", async () => {
    const id = await emit("policy.strict_only");
    const started = Date.now();
    await bus.drainOnce(10);
    const first = await eventRow(sql, id);
    expect(first.status).toBe("failed");
    expect(first.next_retry_at!.getTime() - started).toBeGreaterThanOrEqual(1_500);
    expect(first.next_retry_at!.getTime() - started).toBeLessThan(4_000); // 2 s, no jitter (not the bus's 5 minutes)
    await makeDue(sql, id);
    await bus.drainOnce(10);
    expect(await eventRow(sql, id)).toMatchObject({ status: "dead", retry_count: 1 }); // 2 attempts, though max_retries is 3
  });

  it("keeps the bus's count and backoff for a route without a policy", async () => {
    const id = await emit("policy.lenient_only");
    await bus.drainOnce(10);
    const row = await eventRow(sql, id);
    expect(row.status).toBe("failed");
    expect(row.next_retry_at!.getTime() - Date.now()).toBeGreaterThan(4 * 60_000); // the bus's 5 minutes
    for (let i = 0; i < 3; i++) {
      await makeDue(sql, id);
      await bus.drainOnce(10);
    }
    expect(await eventRow(sql, id)).toMatchObject({ status: "dead", retry_count: 3 });
  });

  it("refuses a bad policy naming the field, and an unknown handler", async () => {
    await expect(sql`select feyxa.set_route_policy('policy.strict', p_max_attempts => 0)`).rejects.toMatchObject({ code: "22023", detail: "max_attempts" });
    await expect(sql`select feyxa.set_route_policy('policy.strict', p_retry_jitter => 2)`).rejects.toMatchObject({ code: "22023", detail: "retry_jitter" });
    await expect(sql`select feyxa.set_route_policy('policy.nobody', p_max_attempts => 3)`).rejects.toMatchObject({ code: "P0002" });
  });
});

describe("rate limits", () => {
  it("hand out the burst, then the wait until the next token, shared by every connection", async () => {
    await sql`select feyxa.configure_rate_limit('partner.api', 0.5, 3)`; // a token every 2 s, 3 at once
    const takes = await Promise.all(Array.from({ length: 6 }, () => sql`select feyxa.take_rate_token('partner.api') as wait`));
    const waits = takes.map(([row]) => row.wait as number).sort((a, b) => a - b);
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    for (const wait of waits.slice(3)) expect(wait).toBeGreaterThan(1_000), expect(wait).toBeLessThanOrEqual(2_000);
    await sql`update feyxa.rate_limits set refilled_at = refilled_at - interval '2 seconds' where key = 'partner.api'`; // 2 s pass
    expect((await sql`select feyxa.take_rate_token('partner.api') as wait`)[0].wait).toBe(0);
    expect((await sql`select feyxa.take_rate_token('no.such.limit') as wait`)[0].wait).toBe(0);
  });

  it("refuses a bad limit naming the field", async () => {
    await expect(sql`select feyxa.configure_rate_limit('x', 0)`).rejects.toMatchObject({ code: "22023", detail: "per_second" });
    await expect(sql`select feyxa.configure_rate_limit('x', 1, 0)`).rejects.toMatchObject({ code: "22023", detail: "burst" });
  });
});
