/**
 * webhooks: `POST /functions/v1/webhooks/<source>`, the door for provider events, each
 * processed once. The signature is checked before anything is written (401, no row);
 * the provider's event id becomes the idempotency key; receive_webhook records it, emits
 * webhook.received and applies the application's business write (its answer to the hook
 * feyxa.webhook_effect: the marketplace's pays the order of a Stripe
 * payment_intent.succeeded) in one transaction; the answer is a
 * 200 as soon as that committed. The same event again, even weeks later, answers 200
 * with `duplicate: true` and changes nothing. Nothing is processed inline: the bus does that.
 * No caller check: providers sign their requests instead (verify_jwt is off for it too).
 */
import type { Bus } from "../bus.ts";
import { HttpError } from "../errors.ts";
import type { FetchHandler } from "../http.ts";
import { receiveWebhook } from "../webhooks/sql.ts";
import { defineFunction, json, route, serveFunction } from "./pipeline.ts";
import { type Env, readProviderEvent, sourceFromEnv, sourceName } from "./webhooks/providers.ts";

export const webhooks = defineFunction({
  name: "webhooks",
  auth: "none",
  note: "providers sign their requests instead of sending a JWT: STRIPE_WEBHOOK_SECRET, WEBHOOK_SECRET_<SOURCE>",
  routes: [route("POST", {
    body: "text", maxBytes: 256 * 1024, // read raw: the signature is over the bytes as sent
    handle: async ({ bus, path, request, body, env }) => {
      const name = /^\/([^/]+)$/.exec(path)?.[1] ?? "";
      const source = sourceName.safeParse(name).success ? sourceFromEnv(name, env()) : undefined;
      if (!source) throw new HttpError(404, "unknown_source", "no webhook source is configured at this path; POST to /functions/v1/webhooks/<source>");
      const event = await readProviderEvent(source, request.headers, body);
      const receipt = await receiveWebhook(bus.sql, source.name, event);
      return json({ received: true, duplicate: receipt.duplicate, event_id: receipt.eventId, effect: receipt.effect });
    },
  })],
});

export interface WebhooksOptions {
  /** The environment, read at each request (webhook secrets). */
  env: () => Env;
  onError?: (error: unknown) => void;
}

/** The function on its own, as a handler (library use, the tests). */
export function createWebhooks(bus: Bus, options: WebhooksOptions): FetchHandler {
  return serveFunction(webhooks, { ...options, bus, auth: () => undefined });
}
