/** An alert's notice by email (operations.send_alert_email): what fired, resolved or was disabled, and the figures. */
import type { AlertNoticePayload as AlertNotice } from "../../../bus/index.ts";
import { escapeHtml } from "./html.ts";
import type { EmailMessage } from "./provider.ts";

const HEADLINES: Record<AlertNotice["notice"], string> = {
  firing: "is firing",
  repeat: "is still firing",
  resolved: "is resolved",
  disabled: "disabled a failing endpoint",
};

/** What a rule watches, in words, for the body: its event type or route, else the whole bus. */
function subjectOf(n: AlertNotice): string {
  return n.handler_name ?? n.event_type ?? "any event type";
}

export function alertNoticeEmail(n: AlertNotice, to: string, where: string): EmailMessage {
  const figures = n.notice === "disabled"
    ? `<p>The route <strong>${escapeHtml(n.handler_name ?? "")}</strong> was deactivated (${n.routes} route(s)); ` +
      `turn it on again once its receiver answers.</p>`
    : `<p>Value: <strong>${n.value ?? "none"}</strong>, threshold: ${n.threshold ?? "none"}.</p>`;
  return {
    to,
    subject: `[Feyxa alert] ${n.name} ${HEADLINES[n.notice]}`.slice(0, 300),
    html: `<p>The alert rule <strong>${escapeHtml(n.name)}</strong> (${n.kind}, ${escapeHtml(subjectOf(n))}) ` +
      `on ${escapeHtml(where)} ${HEADLINES[n.notice]}.</p>${figures}` +
      `<p>Its notices are listed in the monitor's Alerts view (notice ${n.notice_id}).</p>`,
  };
}
