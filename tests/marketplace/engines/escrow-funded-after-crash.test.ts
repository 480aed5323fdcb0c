/**
 * An escrow is funded when its order's payment is paid, whichever event is handled first.
 * When order.created's attempt crashes before fintech.create_escrow runs, payment.paid is
 * handled while the order waits for its lease: the escrow its retry creates must be
 * funded (it was created unfunded for good, and its release refused until dead), and a
 * payment recorded while an escrow is being created must find it.
 */
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { eventRow, testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { checkout, drain, openShop } from "../../support/marketplace.ts";

const { sql, url } = await useDatabase();
const LEASE_MS = 1_000; // the shortest lease a claim takes
const bus = testBus(sql, engineHandlers());
const crashing = testBus(sql, [], { leaseMs: LEASE_MS });
const other = postgres(url, { max: 1, onnotice: () => {} });
afterAll(() => other.end({ timeout: 5 }));

const pay = (orderId: string) => sql`update payments set status = 'paid', provider_ref = 'test' where order_id = ${orderId}::uuid`;
const escrowOf = async (orderId: string) =>
  (await sql`select status, funded_at is not null as funded from escrows where order_id = ${orderId}::uuid`)[0];

describe("an escrow is funded whichever comes first, the payment or the escrow", () => {
  it("order.created's attempt crashed before its escrow; payment.paid is handled meanwhile; the retry's escrow is funded and releases", async () => {
    const shop = await openShop(sql, [{ name: "Chair", price: 40_000, stock: 5 }]);
    const order = await checkout(sql, shop, { Chair: 1 });
    await crashing.claimOne(order.event_id); // its worker dies holding it: nothing recorded
    await pay(order.order_id);
    await drain(bus); // payment.paid, while order.created waits for the lease to run out
    expect(await escrowOf(order.order_id)).toBeUndefined();

    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
    await drain(bus);
    expect((await eventRow(sql, order.event_id)).status).toBe("completed");
    expect(await escrowOf(order.order_id)).toEqual({ status: "held", funded: true });

    await sql`update deliveries set status = 'delivered' where order_id = ${order.order_id}::uuid`;
    await drain(bus);
    expect(await escrowOf(order.order_id)).toEqual({ status: "released", funded: true });
  });

  it("a payment recorded while the escrow is being created waits for it, then funds it", async () => {
    const shop = await openShop(sql, [{ name: "Desk", price: 90_000, stock: 5 }]);
    const order = await checkout(sql, shop, { Desk: 1 });
    await pay(order.order_id);
    const [{ id: paymentId }] = await sql`select id from payments where order_id = ${order.order_id}::uuid`;

    let recorded: Promise<unknown> | undefined;
    await other.begin(async (tx) => {
      await tx`select create_escrow_for_order(${order.order_id}::uuid)`; // not committed yet
      recorded = sql`select record_payment_paid(${paymentId}::uuid)`.execute(); // sent now, not when awaited
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    await recorded;
    expect(await escrowOf(order.order_id)).toEqual({ status: "held", funded: true });
  });
});
