/**
 * webhooks: `POST /functions/v1/webhooks/<source>`, the door for provider events, each
 * processed once (seed 002's ProcessedEvent). The signature is checked before anything
 * is read or written (401, no row); the provider's event id becomes the idempotency key;
 * receive_webhook records it, emits webhook.received and applies the business write
 * (Stripe's payment_intent.succeeded pays the order) in one transaction; the answer is a
 * 200 as soon as that committed. The same event again, even weeks later, answers 200
 * with `duplicate: true` and changes nothing. Nothing is processed inline: the bus does that.
 */
import type { Bus } from "../bus.ts";
import { HttpError } from "../errors.ts";
import { type FetchHandler, json, readText, requireMethod, withErrors } from "../http.ts";
import { receiveWebhook } from "../webhooks/sql.ts";
import { type Env, readProviderEvent, sourceFromEnv, sourceName } from "./webhooks/providers.ts";

export interface WebhooksOptions {
  /** The environment, read at each request (webhook secrets). */
  env: () => Env;
  onError?: (error: unknown) => void;
}

const MAX_BODY_BYTES = 256 * 1024;

export function createWebhooks(bus: Bus, options: WebhooksOptions): FetchHandler {
  return withErrors(async (request) => {
    requireMethod(request, "POST");
    // The path after the function's name: /functions/v1/webhooks/stripe locally, /webhooks/stripe on Supabase.
    const name = /\/webhooks\/([^/]+)\/?$/.exec(new URL(request.url).pathname)?.[1] ?? "";
    const source = sourceName.safeParse(name).success ? sourceFromEnv(name, options.env()) : undefined;
    if (!source) throw new HttpError(404, "unknown_source", "no webhook source is configured at this path; POST to /functions/v1/webhooks/<source>");
    const body = await readText(request, MAX_BODY_BYTES);
    const event = await readProviderEvent(source, request.headers, body);
    const receipt = await receiveWebhook(bus.sql, source.name, event);
    return json({ received: true, duplicate: receipt.duplicate, event_id: receipt.eventId, effect: receipt.effect });
  }, options.onError);
}
