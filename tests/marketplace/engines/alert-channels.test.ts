/**
 * Every alert rule kind through every channel (issue 16): each kind's incident, evaluated as
 * the scheduler does, fires once, stays quiet while it lasts and resolves once, and each of
 * those notices reaches the monitor's banner (event-monitor /alerts), a signed Standard
 * Webhooks delivery (an alert.* remote subscription) and the marketplace admins' email
 * (operations.send_alert_email, through the outbox). The mechanics of each channel are
 * tested on their own beside this (tests/bus/telemetry/alerts.test.ts, alert-email.test.ts,
 * tests/bus/functions/event-monitor-alerts.test.ts); this is the matrix.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { parseAllowList } from "../../../src/bus/outbound.ts";
import { remoteDelivery } from "../../../src/bus/webhooks/remote-handler.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { emitTest, logDelivery, logRuns, markDead, testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { drain } from "../../support/marketplace.ts";
import { monitorClient, monitorGateway, person, type Person } from "../../support/monitor.ts";
import { startReceiver } from "../../support/receiver.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, [...engineHandlers(), remoteDelivery({ timeoutMs: 2_000, outbound: { allow: parseAllowList("127.0.0.1") } })]);
const monitor = monitorClient(monitorGateway(bus));
const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
const receiver = await startReceiver();
let admin: Person;

beforeAll(async () => {
  admin = await person(sql, "ops-channels@example.com", { admin: true });
  await sql`update feyxa.event_bus_settings set outbound_allow = '{127.0.0.1}'`;
  await sql`select feyxa.add_webhook_secret('ops-channels', ${secret})`;
  await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target, secret_name)
            values ('alert.*', 'ops.pager', 'url', ${`${receiver.base}/alerts`}, 'ops-channels')`;
});

/** One incident of a rule kind: what makes the rule breach, and what ends it. */
interface Incident {
  kind: string;
  threshold: number;
  event_type?: string;
  handler_name?: string;
  start: () => Promise<unknown>;
  end: () => Promise<unknown>;
  /** Notices besides firing and resolved, in order after firing. */
  extra?: string[];
}


const incidents: Incident[] = [
  {
    kind: "dead_letters", threshold: 0, event_type: "channel.dead",
    start: async () => markDead(sql, await emitTest(bus, "channel.dead")),
    end: () => sql`update feyxa.events_log set processed_at = now() - interval '1 hour' where event_type = 'channel.dead'`,
  },
  {
    kind: "lag", threshold: 60, event_type: "channel.lag",
    start: async () => sql`update feyxa.event_queue set due_at = now() - interval '2 minutes' where event_id = ${await emitTest(bus, "channel.lag")}::uuid`,
    end: () => drain(bus), // taken and completed: nothing due waits any more
  },
  {
    kind: "failure_rate", threshold: 50, handler_name: "channel.route",
    start: () => logRuns(sql, "channel.route", "failed", 3),
    end: () => logRuns(sql, "channel.route", "success", 10),
  },
  {
    kind: "endpoint_failing", threshold: 1, handler_name: "channel.hook", extra: ["disabled"],
    start: async () => {
      await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target)
                values ('channel.hooked', 'channel.hook', 'url', 'https://hooks.example.com/down')`;
      await logDelivery(sql, "channel.hook", 200, "3 hours");
      await logDelivery(sql, "channel.hook", 503, "110 minutes");
    },
    end: async () => {
      await sql`update feyxa.event_subscriptions set is_active = true where handler_name = 'channel.hook'`; // the operator, once it answers
      await logDelivery(sql, "channel.hook", 200, "0 seconds");
    },
  },
];

/**
 * The scheduler's minute, then the bus delivering the notices it emitted: those events only,
 * claimed by id, so that an incident's own events (the lag's waiting one) stay as they are.
 */
async function tick(): Promise<void> {
  await sql`select feyxa.evaluate_alerts()`;
  const notices = await sql<{ id: string }[]>`
    select q.event_id as id from feyxa.event_queue q join feyxa.events_log e on e.id = q.event_id where e.event_type like 'alert.%'`;
  for (const { id } of notices) {
    const claimed = await bus.claimOne(id);
    if (claimed) await bus.process([claimed]);
  }
}

/** What each channel holds about one rule. */
async function channels(ruleId: string, name: string) {
  const listed = await (await monitor.get(admin, "/alerts")).json() as {
    rules: { id: string; firing: boolean }[]; notices: { rule_id: string; kind: string }[];
  };
  const hooks = receiver.received
    .map((r) => new Webhook(secret).verify(r.body, Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]))) as
      { type: string; data: { payload: { rule_id: string } } })
    .filter((r) => r.data.payload.rule_id === ruleId);
  const mail = await sql<{ subject: string }[]>`
    select subject from email_outbox where to_email = ${admin.email} and subject like ${`[Feyxa alert] ${name} %`} order by created_at`;
  return {
    banner: listed.rules.find((r) => r.id === ruleId)?.firing,
    notices: listed.notices.filter((n) => n.rule_id === ruleId).map((n) => n.kind).reverse(), // the monitor lists the newest first
    // Sorted: the notices of one evaluation (firing and disabled) are events of one transaction, delivered in any order.
    webhooks: hooks.map((h) => h.type).sort(),
    emails: mail.map((m) => m.subject.slice(`[Feyxa alert] ${name} `.length)).sort(),
  };
}

const HEADLINES: Record<string, string> = { firing: "is firing", disabled: "disabled a failing endpoint", resolved: "is resolved" };
/** What the webhook and email channels should hold for these notices, sorted as channels() sorts them. */
const delivered = (notices: string[]) => ({
  webhooks: notices.map((n) => `alert.${n}`).sort(),
  emails: notices.map((n) => HEADLINES[n]).sort(),
});

describe("every alert rule kind through every channel", () => {
  it.each(incidents)("$kind: fires once, quiet through a long incident, resolves once: banner, signed webhook and email", async (incident) => {
    const name = `channels ${incident.kind}`;
    const [{ id }] = await sql<{ id: string }[]>`
      insert into feyxa.alert_rules (name, kind, threshold, event_type, handler_name, repeat_interval)
      values (${name}, ${incident.kind}, ${incident.threshold}, ${incident.event_type ?? null}, ${incident.handler_name ?? null}, '1 hour')
      returning id`;
    await tick();
    expect(await channels(id, name)).toEqual({ banner: false, notices: [], webhooks: [], emails: [] });

    await incident.start();
    const firing = ["firing", ...(incident.extra ?? [])];
    for (let minute = 0; minute < 4; minute++) await tick(); // the incident lasts: still one notice per channel
    expect(await channels(id, name)).toEqual({ banner: true, notices: firing, ...delivered(firing) });

    await incident.end();
    for (let minute = 0; minute < 3; minute++) await tick();
    const notices = [...firing, "resolved"];
    expect(await channels(id, name)).toEqual({ banner: false, notices, ...delivered(notices) });
  });
});
