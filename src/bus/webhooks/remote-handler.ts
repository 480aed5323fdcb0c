/**
 * Remote handlers: a subscription whose target is another Edge Function or an HTTPS URL
 * is run by this one Handler, registered under FALLBACK_HANDLER, so a remote delivery
 * takes the same path as local code: the attempt's timeout and isolation, one row in
 * event_handlers_log under the subscription's handler name, skipped once it succeeded,
 * retried with backoff when it failed.
 *
 * Each delivery is a Standard Webhooks request: `webhook-id` is the run's idempotency key
 * (`event_id:handler_name`, the same on every retry, so receivers can dedupe on it),
 * `webhook-timestamp` the time of this try, `webhook-signature` made by the database.
 * 2xx is success once the whole answer arrived within the timeout (headers then silence is a
 * timeout, recorded with the status seen); 410 deactivates the subscription; 429/503 with Retry-After sets the
 * next attempt's earliest time; anything else is retried. The status and the first 200
 * characters of the answer are recorded (webhook_deliveries) and, for a failure, in the
 * handler log; the URL is not, since webhook URLs often carry a token.
 *
 * A url target is checked by the outbound guard (src/bus/outbound.ts) before anything is
 * sent: one that is or resolves to a loopback, private or link-local address is refused,
 * recorded with the refused address, and the run goes to the dead letters (no retry).
 * Function targets are the operator's own functions_url and are not checked.
 */
import { RetryAfterError } from "../errors.ts";
import { checkOutbound, type OutboundPolicy, STRICT_OUTBOUND } from "../outbound.ts";
import { FALLBACK_HANDLER, noHandlerMessage } from "../run-attempt.ts";
import type { BusEvent, Handler, HandlerContext } from "../types.ts";
import { inDeliverySpan, type Span, traceparentOf } from "../telemetry/delivery-spans.ts";
import { type DeliveryPlan, deliveryPlan, recordDelivery } from "./sql.ts";

export const REMOTE_TIMEOUT_MS = 15_000;
const EXCERPT_CHARS = 200;
/** A Retry-After further away than this is capped: the bus's own backoff takes over from there. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

export interface RemoteDeliveryOptions {
  /** Bearer token for Edge Function targets (the service role key), read at each delivery. */
  functionKey?: () => string | undefined;
  timeoutMs?: number;
  /** Where url targets may go; by default https to public addresses only. */
  outbound?: OutboundPolicy;
}

export function remoteDelivery(options: RemoteDeliveryOptions = {}): Handler {
  return {
    name: FALLBACK_HANDLER,
    timeoutMs: options.timeoutMs ?? REMOTE_TIMEOUT_MS,
    run: (event, ctx) => deliver(event, ctx, options),
  };
}

/** The body every receiver gets: Standard Webhooks' {type, timestamp, data}. */
export function webhookBody(event: BusEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.createdAt.toISOString(),
    data: {
      event_id: event.id,
      aggregate_type: event.aggregateType,
      aggregate_id: event.aggregateId,
      tenant_id: event.tenantId,
      /** Deprecated: 0.1.0's name of tenant_id, sent as well until 0.3.0. */
      store_id: event.tenantId,
      idempotency_key: event.idempotencyKey,
      payload: event.payload,
    },
  });
}

async function deliver(event: BusEvent, ctx: HandlerContext, options: RemoteDeliveryOptions): Promise<void> {
  const name = ctx.handlerName;
  const body = webhookBody(event);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const plan = await deliveryPlan(ctx.sql, name, `${ctx.idempotencyKey}.${timestamp}.${body}`);
  if (!plan) throw new Error(noHandlerMessage(name));
  const url = plan.url;
  if (!url) throw new Error(`${name} targets an Edge Function but event_bus_settings.functions_url is not set`);

  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "feyxa-webhooks/1",
    "webhook-id": ctx.idempotencyKey,
    "webhook-timestamp": timestamp,
  };
  if (plan.signature) headers["webhook-signature"] = plan.signature;
  const key = plan.targetKind === "function" ? options.functionKey?.() : undefined;
  if (key) Object.assign(headers, { authorization: `Bearer ${key}`, apikey: key });
  return await inDeliverySpan(name, plan.targetKind, (span) => {
    // The receiver continues the trace from this delivery's span (W3C Trace Context).
    const traceparent = span && traceparentOf(span);
    if (traceparent) headers.traceparent = traceparent;
    return send(event, ctx, options, { ...plan, url }, headers, body, span);
  });
}

async function send(
  event: BusEvent, ctx: HandlerContext, options: RemoteDeliveryOptions, plan: DeliveryPlan & { url: string },
  headers: Record<string, string>, body: string, span: Span | undefined,
): Promise<void> {
  const name = ctx.handlerName;
  const startedAt = performance.now();
  const record = (statusCode: number | null, excerpt: string) =>
    recordDelivery(ctx.sql, { eventId: event.id, handlerName: name, attempt: event.attempt, statusCode, excerpt, durationMs: elapsed(startedAt) });
  if (plan.targetKind === "url") {
    await checkOutbound(plan.url, options.outbound ?? STRICT_OUTBOUND, ctx.signal).catch(async (refusal: Error) => {
      await record(null, refusal.message.slice(0, EXCERPT_CHARS)).catch(() => {});
      throw refusal;
    });
  }
  let response: Response;
  try {
    // No redirects: a receiver cannot bounce a signed delivery somewhere else.
    response = await fetch(plan.url, { method: "POST", headers, body, signal: ctx.signal, redirect: "manual" });
  } catch (thrown) {
    const reason = ctx.signal.aborted ? "no answer before the timeout" : `no answer: ${describe(thrown)}`;
    await record(null, reason).catch(() => {});
    throw new Error(reason);
  }
  // Only a whole answer counts: headers followed by silence (or a cut) is no delivery.
  const { excerpt, complete } = await readAnswer(response);
  if (!complete) {
    const reason = ctx.signal.aborted ? `HTTP ${response.status} but the body did not end before the timeout` : `HTTP ${response.status} but the body was cut off`;
    await record(response.status, excerpt ? `${reason}: ${excerpt}`.slice(0, EXCERPT_CHARS) : reason).catch(() => {});
    throw new Error(reason);
  }
  const deactivated = await record(response.status, excerpt);
  span?.setAttribute("http.response.status_code", response.status);
  if (response.ok) return;

  const what = `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ""}`;
  if (response.status === 410) {
    throw new Error(`${what} (the receiver is gone${deactivated ? "; subscription deactivated" : ""})`);
  }
  const retryAfter = response.status === 429 || response.status === 503 ? retryAfterMs(response.headers.get("retry-after")) : undefined;
  if (retryAfter !== undefined) throw new RetryAfterError(what, Math.min(retryAfter, MAX_RETRY_AFTER_MS));
  throw new Error(what);
}

/** Retry-After as milliseconds from now: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The whole answer, read to its end (bounded by the run's signal), keeping its first
 * characters on one line; `complete` is false when the body did not end (aborted or cut).
 */
async function readAnswer(response: Response): Promise<{ excerpt: string; complete: boolean }> {
  if (!response.body) return { excerpt: "", complete: true };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let complete = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (text.length < EXCERPT_CHARS * 4) text += decoder.decode(value, { stream: true });
    }
    complete = true;
  } catch {
    // aborted by the timeout or cut by the receiver: the answer is incomplete
  } finally {
    reader.cancel().catch(() => {});
  }
  return { excerpt: text.replace(/[\u0000-\u001f\u007f\s]+/g, " ").trim().slice(0, EXCERPT_CHARS), complete };
}

const describe = (thrown: unknown) => {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return cause ? `${error.message} (${cause})` : error.message;
};

const elapsed = (startedAt: number) => Math.round(performance.now() - startedAt);
