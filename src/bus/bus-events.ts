/**
 * The events the bus emits itself, with the zod schema of each payload: its alert notices
 * (`alert.<notice kind>`, emitted by SQL, feyxa.evaluate_alerts, with aggregate `alert_rule`
 * and the rule's tenant). An application's catalog takes these as they are, so that its
 * handlers read them checked and no client emits one of its own.
 */
import { z } from "zod";
import { ALERT_KINDS, ALERT_NOTICE_KINDS, type AlertNoticeKind } from "./vocabulary.ts";

const alertNotice = z.object({
  rule_id: z.uuid(),
  name: z.string().min(1).max(200),
  kind: z.enum(ALERT_KINDS),
  notice_id: z.number().int().positive(),
  value: z.number().nullish(),
  threshold: z.number().nullish(),
  event_type: z.string().nullish(),
  handler_name: z.string().nullish(),
});

/** Payload schemas of the bus's own events, by event type. */
export const busEventSchemas = {
  "alert.firing": alertNotice.extend({ notice: z.literal("firing") }),
  "alert.repeat": alertNotice.extend({ notice: z.literal("repeat") }),
  "alert.resolved": alertNotice.extend({ notice: z.literal("resolved") }),
  "alert.disabled": alertNotice.extend({ notice: z.literal("disabled"), routes: z.number().int().nonnegative() }),
} as const satisfies Record<`alert.${AlertNoticeKind}`, z.ZodType>;

export type BusEventType = keyof typeof busEventSchemas;
/** An alert notice's payload, whichever its kind. */
export type AlertNoticePayload = z.infer<(typeof busEventSchemas)[BusEventType]>;
/** The alert notices' event types: what a channel (an email, a chat message) subscribes to. */
export const ALERT_EVENT_TYPES = Object.freeze(ALERT_NOTICE_KINDS.map((kind) => `alert.${kind}` as const));
