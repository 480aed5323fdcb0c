/**
 * Server-side request forgery (issue 12, finding 9), played as a store owner or operator
 * who writes URLs: remote handlers' url targets, automations' webhook reactions and poll
 * triggers aimed at loopback (in every spelling), cloud metadata, private and link-local
 * ranges, IPv6 forms, names that resolve there (an injected resolver stub), and a redirect
 * from an allowed receiver, and URLs carrying credentials (`user:pass@`). Each is refused
 * when saved (when the URL says so literally)
 * and again at the request, where the run goes to the dead letters naming the address;
 * and the forbidden receiver, on loopback but not on the allow-list, receives nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { checkOutbound, type OutboundPolicy, parseAllowList, STRICT_OUTBOUND } from "../../src/bus/outbound.ts";
import { remoteDelivery } from "../../src/bus/webhooks/remote-handler.ts";
import { pollDue } from "../../src/marketplace/automations/poll.ts";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { testFunctions, token } from "../support/auth.ts";
import { asApiRole } from "../support/as-role.ts";
import { emitTest, eventRow, handlerRows, testBus, uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";
import { drain, openShop } from "../support/marketplace.ts";
import { startReceiver } from "../support/receiver.ts";

const { sql } = await useDatabase();
const forbidden = await startReceiver();
const allowed = await startReceiver((r) => (r.path === "/redirect" ? { status: 302, headers: { location: `${forbidden.base}/stolen` } } : { status: 200, body: "[]" }));
const allowedHost = new URL(allowed.base).host;
const F = new URL(forbidden.base).port;

/** What the bus may call: the allowed receiver's host:port, nothing else on loopback; names resolve through a stub. */
const names: Record<string, string[]> = {
  "rebind.example": ["127.0.0.1"], "metadata.example": ["169.254.169.254"], "split.example": ["93.184.216.34", "10.0.0.7"],
};
const outbound: OutboundPolicy = { allow: parseAllowList(allowedHost), resolve: async (host) => names[host] ?? [] };
const allowOnlyTheReceiver = () => sql`update feyxa.event_bus_settings set outbound_allow = ${[allowedHost]}`;
await allowOnlyTheReceiver();

const bus = testBus(sql, [...engineHandlers({ outbound }), remoteDelivery({ timeoutMs: 2_000, outbound })]);
const gateway = createGateway(testFunctions(bus));
const shop = await openShop(sql, [{ name: "Mug", price: 1_000, stock: 10 }]);
const owner = uuid();
await sql`insert into auth.users (id, email) values (${owner}, 'ssrf-owner@example.com')`;
await sql`insert into store_members (store_id, user_id, role) values (${shop.storeId}, ${owner}, 'owner')`;

/** Targets whose URL says they are not public: refused when saved, and at the request. */
const literal: [string, string, RegExp][] = [
  ["loopback", `http://127.0.0.1:${F}/hook`, /127\.0\.0\.1 is a loopback|127\.0\.0\.1, a loopback/],
  ["loopback spelled in decimal", `http://2130706433:${F}/hook`, /loopback/],
  ["loopback spelled in hex", `http://0x7f.1:${F}/hook`, /loopback/],
  ["loopback spelled in octal", `http://0177.0.0.1:${F}/hook`, /loopback/],
  ["the unspecified address, which reaches this machine", `http://0.0.0.0:${F}/hook`, /this network/],
  ["IPv4-mapped IPv6 loopback", `http://[::ffff:127.0.0.1]:${F}/hook`, /IPv4-mapped/],
  ["IPv6 loopback", `http://[::1]:${F}/hook`, /loopback|not global unicast/],
  ["localhost", `http://localhost:${F}/hook`, /localhost names this machine/],
  ["a subdomain of localhost", `http://api.localhost:${F}/hook`, /api\.localhost names this machine/],
  ["cloud metadata", "http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254.* link-local, cloud metadata/],
  ["private 10/8", "https://10.0.0.1/hook", /private \(10\.0\.0\.0\/8\)/],
  ["private 172.16/12", "https://172.16.5.4/hook", /private \(172\.16\.0\.0\/12\)/],
  ["private 192.168/16", "https://192.168.1.1/hook", /private \(192\.168\.0\.0\/16\)/],
  ["CGNAT 100.64/10", "https://100.64.0.1/hook", /shared CGNAT/],
  ["IPv6 link-local", "https://[fe80::1]/hook", /link-local|not global unicast/],
  ["IPv6 unique local", "https://[fd00::1]/hook", /unique local|not global unicast/],
];
/** Targets only DNS tells apart: saved, then refused at the request. */
const resolved: [string, string, RegExp][] = [
  ["a name that resolves to loopback", `http://rebind.example:${F}/hook`, /rebind\.example resolves to 127\.0\.0\.1, a loopback/],
  ["a name that resolves to cloud metadata", "https://metadata.example/hook", /resolves to 169\.254\.169\.254, a link-local/],
  ["a name with one private address among public ones", "https://split.example/hook", /resolves to 10\.0\.0\.7, a private/],
];
const everyTarget = [...literal, ...resolved];

/** Saves rows as an older, laxer policy did (the database's allow-list open for a moment): the request must still refuse them. */
async function savedUnderOldPolicy(write: () => Promise<unknown>) {
  await sql`update feyxa.event_bus_settings set outbound_allow = '{0.0.0.0/0,::/0,localhost,api.localhost,rebind.example}'`;
  try {
    await write();
  } finally {
    await allowOnlyTheReceiver();
  }
}

afterEach(() => {
  expect(forbidden.received, "the forbidden receiver was called").toEqual([]);
});

describe("saving a URL that is literally not public is a 400 naming the field", () => {
  const save = async (body: unknown) =>
    gateway(new Request("http://localhost/functions/v1/automations", {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${await token(owner)}` }, body: JSON.stringify(body),
    }));

  /** Every place that saves an outbound URL refuses `url` with `reason`: automations' webhook and poll, through the function and the REST API, and the route table. */
  async function refusedWhereverSaved(url: string, reason: RegExp) {
    const hook = await save({ store_id: shop.storeId, name: "hook", trigger_pattern: "ssrf.saved", reactions: [{ type: "notify", title: "x" }, { type: "webhook", url }] });
    expect(hook.status, url).toBe(400);
    expect(await hook.json()).toMatchObject({ error: "invalid_request", field: "reactions.1.url", message: expect.stringMatching(reason) });
    const poll = await save({ store_id: shop.storeId, name: "poll", trigger_kind: "poll", poll: { url }, reactions: [{ type: "notify", title: "x" }] });
    expect(poll.status).toBe(400);
    expect(await poll.json()).toMatchObject({ field: "poll.url", message: expect.stringMatching(reason) });
    // Through the REST API, as the owner, the database refuses it the same way.
    const rest = await asApiRole(sql, "authenticated", owner, (tx) => tx`
      insert into automations (store_id, name, trigger_pattern, reactions)
      values (${shop.storeId}::uuid, 'rest', 'ssrf.saved', ${tx.json([{ type: "webhook", url }])})`);
    expect(rest).toBe("denied:22023");
    await expect(sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target)
                     values ('ssrf.saved', 'ssrf.saved', 'url', ${url})`).rejects.toMatchObject({ detail: "target", message: expect.stringMatching(reason) });
  }

  it.each(literal)("an automation's webhook reaction or poll aimed at %s", async (_, url, reason) => {
    await refusedWhereverSaved(url, reason);
  });

  it("the database reads a URL's host as the request will: every spelling refused by one is refused by the other", async () => {
    const urls = [
      "https://93.184.216.34/", "https://example.com/x?y=1", "https://user:pw@example.com/", "https://127.0.0.1.nip.io/",
      "http://127.1/", "http://0x7f000001/", "http://0x7F.0.0.1/", "http://017700000001/", "http://127.0.0.1./", "https://%31%32%37.0.0.1/", "https://0x7f.1:443/",
      "https://example.com@127.0.0.1/", "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:0:0:1]/", "http://[::]/", "https://[2606:4700::1111]/",
      "http://LOCALHOST/", "http://a.b.localhost./", "https://169.254.169.254./", "https://0/", "https://1.1.1.1/", "http://1.1.1.1/",
      "https://user@example.com/", "https://:pw@example.com/", "https://@example.com/", "https://a%40b:c@example.com/x@y",
    ];
    for (const url of urls) {
      const [{ refusal }] = await sql`select feyxa.outbound_url_refusal(${url}, '{}') as refusal`;
      const request = await checkOutbound(url, STRICT_OUTBOUND).then(() => null, (e: Error) => e.message);
      // The database cannot resolve names: those it saves, and the request checks them.
      if (request?.includes("no DNS resolver")) expect(refusal, url).toBeNull();
      else expect(refusal === null, `${url}: database ${refusal}, request ${request}`).toBe(request === null);
    }
  });

  it("a URL with credentials in it is refused wherever it is saved, allow-listed host or not, by the route table's rule", async () => {
    const withCredentials = [`${allowed.base.replace("://", "://user:pass@")}/hook`, "https://user:pass@example.com/hook",
      "https://token@example.com/hook", "https://@example.com/hook"];
    for (const url of withCredentials) {
      // The route table's trigger says what its CHECK constraint says (no userinfo), in the same words as the automations'.
      await refusedWhereverSaved(url, /must not carry credentials/);
      // And at the request, for a row saved before the rule.
      await expect(checkOutbound(url, outbound)).rejects.toThrow(/carries credentials/);
    }
    expect(await sql`select 1 from automations where name in ('hook', 'poll', 'rest')`).toHaveLength(0);
  });

  it("the allow-listed receiver itself can be saved, by host and port only", async () => {
    const ok = await save({ store_id: shop.storeId, name: "ok", trigger_pattern: "ssrf.saved", reactions: [{ type: "webhook", url: `${allowed.base}/hook` }] });
    expect(ok.status).toBe(201);
    const otherPort = await save({ store_id: shop.storeId, name: "other port", trigger_pattern: "ssrf.saved", reactions: [{ type: "webhook", url: `${forbidden.base}/hook` }] });
    expect(otherPort.status).toBe(400);
    await sql`delete from automations where store_id = ${shop.storeId}::uuid`;
  });
});

describe("remote handlers never post to a non-public address", () => {
  it("each target is refused at delivery: the run is dead at once, the refused address named", async () => {
    await savedUnderOldPolicy(async () => {
      for (const [i, [, url]] of everyTarget.entries()) {
        await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target) values ('ssrf.remote', ${`ssrf.remote${i}`}, 'url', ${url})`;
      }
    });
    const id = await emitTest(bus, "ssrf.remote");
    await drain(bus);
    expect((await eventRow(sql, id)).status).toBe("dead");
    const runs = await handlerRows(sql, id);
    expect(runs).toHaveLength(everyTarget.length);
    for (const [i, [what, , reason]] of everyTarget.entries()) {
      const run = runs.find((r) => r.handler_name === `ssrf.remote${i}`)!;
      expect(run.attempt, what).toBe(1);
      expect(run.error_message, what).toMatch(reason);
    }
    const deliveries = await sql`select status_code from feyxa.webhook_deliveries where event_id = ${id}::uuid`;
    expect(deliveries.every((d) => d.status_code === null)).toBe(true);
  });

  it("a redirect from the allowed receiver to loopback is not followed", async () => {
    await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target) values ('ssrf.bounce', 'ssrf.bounce', 'url', ${`${allowed.base}/redirect`})`;
    const id = await emitTest(bus, "ssrf.bounce");
    await drain(bus);
    expect((await handlerRows(sql, id))[0].error_message).toMatch(/^HTTP 302/);
    expect(allowed.received.filter((r) => r.path === "/redirect").length).toBeGreaterThan(0);
  });
});

describe("automations never call or poll a non-public address", () => {
  it("each webhook reaction target is refused: the automation fails naming the address, the run is dead at once", async () => {
    const ids: string[] = [];
    await savedUnderOldPolicy(async () => {
      for (const [what, url] of everyTarget) {
        const [row] = await sql`insert into automations (store_id, name, trigger_pattern, reactions)
          values (${shop.storeId}::uuid, ${what}, 'ssrf.hook', ${sql.json([{ type: "webhook", url, payload: {} }])}) returning id`;
        ids.push(row.id);
      }
    });
    const { eventId } = await bus.emit({ event_type: "ssrf.hook", aggregate_type: "store", aggregate_id: uuid(), tenant_id: shop.storeId, payload: {} });
    await drain(bus);
    expect((await eventRow(sql, eventId)).status).toBe("dead");
    for (const [i, [what, , reason]] of everyTarget.entries()) {
      const [run] = await sql`select status, error_message from automation_runs where automation_id = ${ids[i]}::uuid`;
      expect(run, what).toMatchObject({ status: "failed", error_message: expect.stringMatching(reason) });
    }
    await sql`update automations set is_active = false where id = any(${ids}::uuid[])`;
  });

  it("each poll target is refused before any request, naming the address; nothing is emitted", async () => {
    const ids: string[] = [];
    await savedUnderOldPolicy(async () => {
      for (const [what, url] of everyTarget) {
        const [row] = await sql`insert into automations (store_id, name, trigger_kind, trigger_pattern, poll, reactions)
          values (${shop.storeId}::uuid, ${what}, 'poll', 'automation.polled', ${sql.json({ url, interval_seconds: 60 })},
                  ${sql.json([{ type: "notify", title: "x" }])}) returning id`;
        ids.push(row.id);
      }
    });
    const summary = await pollDue(sql, { limit: 100, outbound });
    expect(summary).toMatchObject({ polled: everyTarget.length, new_items: 0 });
    for (const [i, [what, , reason]] of everyTarget.entries()) {
      expect(summary.failures.find((f) => f.automation_id === ids[i])?.error, what).toMatch(reason);
    }
    const [{ n }] = await sql`select count(*)::int as n from feyxa.events_log where event_type = 'automation.polled'`;
    expect(n).toBe(0);
    await sql`update automations set is_active = false where id = any(${ids}::uuid[])`;
  });

  it("a redirect from the allowed receiver to loopback is not followed, by a webhook reaction or a poll", async () => {
    const redirect = `${allowed.base}/redirect`;
    const [hook] = await sql`insert into automations (store_id, name, trigger_pattern, reactions)
      values (${shop.storeId}::uuid, 'bounce hook', 'ssrf.bounce', ${sql.json([{ type: "webhook", url: redirect, payload: {} }])}) returning id`;
    await sql`insert into automations (store_id, name, trigger_kind, trigger_pattern, poll, reactions)
      values (${shop.storeId}::uuid, 'bounce poll', 'poll', 'automation.polled', ${sql.json({ url: redirect, interval_seconds: 60 })},
              ${sql.json([{ type: "notify", title: "x" }])})`;
    await bus.emit({ event_type: "ssrf.bounce", aggregate_type: "store", aggregate_id: uuid(), tenant_id: shop.storeId, payload: {} });
    await drain(bus);
    const [run] = await sql`select error_message from automation_runs where automation_id = ${hook.id}::uuid`;
    expect(run.error_message).toMatch(/HTTP 302/);
    const summary = await pollDue(sql, { outbound });
    expect(summary.failures.map((f) => f.error)).toEqual([expect.stringMatching(/answered 302/)]);
  });
});
