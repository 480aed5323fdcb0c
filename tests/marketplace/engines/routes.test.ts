/**
 * The marketplace's routes cannot drift: each is written once, next to its handler, and
 * the database's code-managed subscriptions are exactly those (after the migrations and
 * the sync npm start and the functions run). Automations' routes follow their table the
 * same way. A handler without a route, or a route naming no handler, fails here.
 */
import { describe, expect, it } from "vitest";
import { patternMatches } from "../../../src/bus/router.ts";
import { declaredRoutes, syncRoutes } from "../../../src/bus/route-sync.ts";
import { FALLBACK_HANDLER } from "../../../src/bus/run-attempt.ts";
import { eventCatalog } from "../../../src/marketplace/engines/catalog.ts";
import { engineHandlers, engineHandlersFromEnv, ROUTE_SOURCE } from "../../../src/marketplace/engines/index.ts";
import { useDatabase } from "../../support/database.ts";
import { openShop } from "../../support/marketplace.ts";

const db = await useDatabase();
const { sql } = db;
const handlers = engineHandlersFromEnv({});
const names = new Set(handlers.map((h) => h.name));
/** Handlers whose routes are data: remote handlers' rows (operators'), automations' triggers. */
const ROUTED_BY_DATA = ["automations.run", FALLBACK_HANDLER];
const key = (r: { event_pattern: string; handler_name: string }) => `${r.event_pattern} -> ${r.handler_name}`;

describe("the marketplace's routes, written once", () => {
  it("every handler declares its events, except those routed by data", () => {
    expect(handlers.filter((h) => !h.on).map((h) => h.name).sort()).toEqual([...ROUTED_BY_DATA].sort());
  });

  it("every declared pattern reaches some catalogued event type", () => {
    const types = Object.keys(eventCatalog);
    const deaf = declaredRoutes(handlers).filter((r) => !types.some((t) => patternMatches(r.event_pattern, t)));
    expect(deaf).toEqual([]);
  });

  it("after the migrations and the sync, the database routes exactly what the code declares", async () => {
    expect(await syncRoutes(sql, ROUTE_SOURCE, engineHandlers())).toEqual({ added: 0, revived: 0, retired: 0 });
    const managed = await sql<{ event_pattern: string; handler_name: string }[]>`
      select event_pattern, handler_name from feyxa.event_subscriptions
      where managed_by = ${ROUTE_SOURCE} and is_active order by 1, 2`;
    expect(managed.map(key).sort()).toEqual(declaredRoutes(handlers).map(key).sort());
  });

  it("the steps are the ones docs/marketplace.md lists, and the database's routes wait for exactly what the code says", async () => {
    const steps = Object.fromEntries(handlers.filter((h) => h.after?.length).map((h) => [h.name, [...h.after!]]));
    expect(steps).toEqual({
      "commerce.send_confirmation_email": ["commerce.decrement_stock"],
      "fintech.release_escrow": ["logistics.mark_delivered"],
    });
    const managed = await sql<{ event_pattern: string; handler_name: string; after_handlers: string[] }[]>`
      select event_pattern, handler_name, after_handlers from feyxa.event_subscriptions
      where managed_by = ${ROUTE_SOURCE} and is_active order by 1, 2`;
    const declared = new Map(declaredRoutes(handlers).map((r) => [key(r), r.after ?? []]));
    expect(managed.map((r) => [key(r), r.after_handlers])).toEqual(managed.map((r) => [key(r), declared.get(key(r))]));
  });

  it("no active local route names a handler the code does not have, or is written outside the code", async () => {
    const local = await sql<{ event_pattern: string; handler_name: string; managed_by: string | null }[]>`
      select event_pattern, handler_name, managed_by from feyxa.event_subscriptions where is_active and target_kind = 'local'`;
    expect(local.filter((r) => !names.has(r.handler_name)).map(key)).toEqual([]);
    // A route a migration seeds is a second copy of the code's: it would be nobody's (managed_by null).
    expect(local.filter((r) => r.managed_by === null).map(key)).toEqual([]);
  });
});

describe("automations' routes", () => {
  const automationRoute = () => sql`
    select is_active, managed_by, retired_at is not null as retired from feyxa.event_subscriptions
    where event_pattern = 'ticket.created' and handler_name = 'automations.run'`;

  it("follow the active automations, keep an operator's toggle, and are retired when unused", async () => {
    const shop = await openShop(sql, []);
    const [automation] = await sql`insert into automations (store_id, name, trigger_pattern, reactions)
      values (${shop.storeId}, 'tickets', 'ticket.created', '[{"type": "notify", "title": "t", "body": "b"}]') returning id`;
    expect(await automationRoute()).toEqual([{ is_active: true, managed_by: "automations", retired: false }]);
    await sql`update feyxa.event_subscriptions set is_active = false where event_pattern = 'ticket.created' and handler_name = 'automations.run'`;
    await sql`update automations set name = 'tickets, renamed' where id = ${automation.id}`;
    expect(await automationRoute()).toEqual([{ is_active: false, managed_by: "automations", retired: false }]);
    await sql`update automations set is_active = false where id = ${automation.id}`;
    expect(await automationRoute()).toEqual([{ is_active: false, managed_by: "automations", retired: true }]);
    await sql`update automations set is_active = true where id = ${automation.id}`;
    expect(await automationRoute()).toEqual([{ is_active: true, managed_by: "automations", retired: false }]);
  });
});
