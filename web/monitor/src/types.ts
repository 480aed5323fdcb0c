/**
 * The shapes event-monitor answers with, as the page receives them (JSON): read from the
 * API's own schemas (src/bus/functions/monitor/answers.ts, through the bus's "./functions"
 * entry), never copied, so that a field the API renames or drops breaks `npm run typecheck`
 * here. Type-only imports: nothing of the server is bundled into the page.
 */
import type { MonitorAnswers } from "../../../src/bus/functions/index.ts";
import type { AlertKind, EventStatus } from "../../../src/bus/vocabulary.ts";

export type { AlertKind, MonitorAnswers };
export type Status = EventStatus;

export type Me = MonitorAnswers["me"];
export type EventPage = MonitorAnswers["events"];
export type EventRow = EventPage["events"][number];
export type Detail = MonitorAnswers["event"];
export type Story = MonitorAnswers["story"];
/** waiting: a prerequisite (after) failed in that attempt; blocked: one refused the event. */
export type HandlerRun = Detail["attempts"][number]["handlers"][number];
export type Stats = MonitorAnswers["stats"];
export type ActionResult = MonitorAnswers["act"];
export type Failures = MonitorAnswers["failures"];
export type FailureGroup = Failures["groups"][number];
export type BulkPreview = MonitorAnswers["bulkPreview"];
export type BulkKind = BulkPreview["kind"];
export type BulkResult = MonitorAnswers["bulk"];
export type RouteRow = MonitorAnswers["routes"]["routes"][number];
export type AuditRow = MonitorAnswers["actions"]["actions"][number];
export type Alerts = MonitorAnswers["alerts"];
/** A rule with its state, as GET /alerts lists them. */
export type AlertRule = Alerts["rules"][number];
export type AlertNotice = Alerts["notices"][number];
/** The bus's health verdict (GET /health). */
export type Health = MonitorAnswers["health"];
