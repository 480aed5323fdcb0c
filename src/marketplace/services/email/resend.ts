/**
 * An EmailProvider over Resend's HTTP API (POST /emails, bearer key, Idempotency-Key
 * header so that a retried send is delivered once). Any server speaking that shape works.
 */
import { NonRetriableError, RetryAfterError } from "../../../bus/index.ts";
import type { EmailMessage, EmailProvider } from "./provider.ts";

export interface ResendOptions {
  apiKey: string;
  from: string;
  baseUrl?: string;
}

export function createResendProvider({ apiKey, from, baseUrl = "https://api.resend.com" }: ResendOptions): EmailProvider {
  return {
    name: "resend",
    async send(message: EmailMessage, { idempotencyKey, signal }) {
      const response = await fetch(`${baseUrl.replace(/\/$/, "")}/emails`, {
        method: "POST",
        signal,
        headers: {
          authorization: `Bearer ${apiKey}`,
          "content-type": "application/json",
          "idempotency-key": idempotencyKey,
        },
        body: JSON.stringify({ from, to: [message.to], subject: message.subject, html: message.html }),
      });
      const text = await response.text();
      if (response.ok) {
        const id = (JSON.parse(text) as { id?: unknown }).id;
        if (typeof id !== "string") throw new Error("the email provider answered without a message id");
        return { id };
      }
      const detail = `email provider answered ${response.status}: ${text.slice(0, 200)}`;
      const retryAfter = Number(response.headers.get("retry-after"));
      if (response.status === 429 || response.status >= 500) {
        throw Number.isFinite(retryAfter) && retryAfter > 0 ? new RetryAfterError(detail, retryAfter * 1000) : new Error(detail);
      }
      // 4xx: a bad address or a bad key; sending again will not help.
      throw new NonRetriableError(detail);
    },
  };
}
