/**
 * Who may send us webhooks, and how each proves it: `stripe` signs with Stripe's scheme
 * (STRIPE_WEBHOOK_SECRET); any other source with Standard Webhooks
 * (WEBHOOK_SECRET_<SOURCE>, e.g. WEBHOOK_SECRET_ACME for /webhooks/acme). Secrets are read
 * from the environment at each request; several, whitespace-separated, during a rotation.
 */
import { z } from "zod";
import { HttpError } from "../../errors.ts";
import { parseJsonText, parseWith } from "../../http.ts";
import { SignatureError, splitSecrets, verifyStandardWebhook, verifyStripe } from "../../webhooks/signatures.ts";

export type Env = Record<string, string | undefined>;

export interface WebhookSource {
  name: string;
  scheme: "stripe" | "standard";
  secrets: string[];
}

/** A verified provider event: its id is the idempotency key, its type and data what it says. */
export interface ProviderEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export const sourceName = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/);

export function sourceFromEnv(name: string, env: Env): WebhookSource | undefined {
  const configured = name === "stripe"
    ? env.STRIPE_WEBHOOK_SECRET
    : env[`WEBHOOK_SECRET_${name.toUpperCase().replaceAll("-", "_")}`];
  const secrets = splitSecrets(configured);
  if (secrets.length === 0) return undefined;
  return { name, scheme: name === "stripe" ? "stripe" : "standard", secrets };
}

const providerId = z.string().min(1).max(200);
const stripeEvent = z.object({
  id: providerId,
  type: z.string().min(1).max(200),
  data: z.object({ object: z.record(z.string(), z.unknown()) }).loose(),
});
const standardEvent = z.object({ type: z.string().min(1).max(200), data: z.record(z.string(), z.unknown()).default({}) });

/** Verifies the signature (401 otherwise, naming no secret or signature), then reads the event (400). */
export async function readProviderEvent(source: WebhookSource, headers: Headers, body: string, now = new Date()): Promise<ProviderEvent> {
  try {
    if (source.scheme === "stripe") await verifyStripe(source.secrets, headers.get("stripe-signature"), body, { now });
    else {
      await verifyStandardWebhook(source.secrets, {
        id: headers.get("webhook-id"), timestamp: headers.get("webhook-timestamp"), signature: headers.get("webhook-signature"),
      }, body, { now });
    }
  } catch (error) {
    if (error instanceof SignatureError) throw new HttpError(401, "invalid_signature", `signature refused: ${error.message}`);
    throw error;
  }
  const json = parseJsonText(body);
  if (source.scheme === "stripe") {
    const event = parseWith(stripeEvent, json);
    return { id: event.id, type: event.type, data: event.data };
  }
  const event = parseWith(standardEvent, json);
  return { id: parseWith(providerId, headers.get("webhook-id"), "webhook-id"), type: event.type, data: event.data };
}
