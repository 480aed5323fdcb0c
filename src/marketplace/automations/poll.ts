/**
 * The poller of polling automations: claims those whose interval has passed, fetches each
 * endpoint, takes the items of its JSON answer, and hands their keys to
 * record_poll_items, which emits automation.polled for the ones never seen before.
 * One endpoint failing (down, slow, not JSON) is recorded on nothing and retried at the
 * next interval; it never stops the others. Every fetch goes through the outbound guard
 * (src/bus/outbound.ts): an endpoint on a loopback, private or link-local address is
 * refused before any request, and reported among the failures with the refused address.
 */
import { outboundFetch, type OutboundPolicy, type Sql, STRICT_OUTBOUND } from "../../bus/index.ts";
import { valueAt } from "./evaluate.ts";
import { pollSchema } from "./schema.ts";

const MAX_ITEMS = 100;
const MAX_BYTES = 1024 * 1024;

export interface PollSummary {
  polled: number;
  new_items: number;
  failures: { automation_id: string; error: string }[];
}

export interface PollOptions {
  limit?: number;
  timeoutMs?: number;
  /** Where polls may go; by default https to public addresses only. */
  outbound?: OutboundPolicy;
}

export async function pollDue(sql: Sql, { limit = 20, timeoutMs = 10_000, outbound = STRICT_OUTBOUND }: PollOptions = {}): Promise<PollSummary> {
  const due = await sql<{ id: string; poll: unknown }[]>`select id, poll from claim_due_polls(${limit})`;
  const summary: PollSummary = { polled: due.length, new_items: 0, failures: [] };
  await Promise.all(due.map(async ({ id, poll }) => {
    try {
      const config = pollSchema.parse(poll);
      const items = await fetchItems(config.url, config.items_path, timeoutMs, outbound);
      const keyed = items.slice(0, MAX_ITEMS).map((item) => ({ key: keyOf(valueAt(item, config.id_field)), item }))
        .filter((i): i is { key: string; item: unknown } => i.key !== undefined);
      const [{ n }] = await sql<{ n: number }[]>`select record_poll_items(${id}::uuid, ${sql.json(keyed as never)}) as n`;
      summary.new_items += n;
    } catch (error) {
      summary.failures.push({ automation_id: id, error: (error as Error).message.slice(0, 300) });
    }
  }));
  return summary;
}

async function fetchItems(url: string, itemsPath: string | undefined, timeoutMs: number, outbound: OutboundPolicy): Promise<unknown[]> {
  const response = await outboundFetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } }, outbound);
  if (!response.ok) throw new Error(`the endpoint answered ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_BYTES) throw new Error(`the answer is larger than ${MAX_BYTES} bytes`);
  const body = JSON.parse(text) as unknown;
  const items = itemsPath ? valueAt(body, itemsPath) : body;
  if (!Array.isArray(items)) throw new Error(`no array at ${itemsPath ?? "the top of the answer"}`);
  return items;
}

const keyOf = (value: unknown) => (typeof value === "string" && value.length > 0 ? value.slice(0, 500) : typeof value === "number" ? String(value) : undefined);
