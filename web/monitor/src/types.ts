/** The shapes event-monitor answers with (src/bus/functions/monitor/*.ts). */
export type Status = "pending" | "processing" | "completed" | "failed" | "dead" | "discarded" | "cancelled";

export interface Me {
  user_id: string;
  email: string | null;
  is_admin: boolean;
  tenants: { id: string; name: string; slug: string }[];
}

export interface EventRow {
  id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  tenant_id: string | null;
  status: Status;
  attempt: number;
  retry_count: number;
  max_retries: number;
  next_retry_at: string | null;
  error_message: string | null;
  idempotency_key: string;
  created_at: string;
  processed_at: string | null;
}

export interface EventPage {
  events: EventRow[];
  next_cursor: string | null;
}

export interface HandlerRun {
  handler_name: string;
  /** waiting: a prerequisite (after) failed in that attempt; blocked: one refused the event. */
  status: "success" | "failed" | "skipped" | "waiting" | "blocked" | "deferred";
  duration_ms: number;
  error_message: string | null;
  created_at: string;
}

export interface Detail {
  event: EventRow & { payload: unknown; tenant_name: string | null; first_claimed_at: string | null };
  attempts: { attempt: number; handlers: HandlerRun[] }[];
  routed_handlers: string[];
  owed_handlers: string[];
  /** Handler -> the routed handlers it runs after (steps), for those that wait for some. */
  route_steps: Record<string, string[]>;
  /** Flow control: scheduled for later, priority, the ordering line it waits in. */
  flow: {
    scheduled: boolean; deliver_at: string | null; priority: number; ordering_key: string | null; ordering_seq: number | null;
    held: boolean; held_behind: string | null; waiting_behind: number;
  };
  /** The aggregate's event-sourced stream, when it has one. */
  timeline: { version: number; event_id: string; event_type: string; status: string; created_at: string }[];
  /** Each remote handler run's HTTP answer. */
  deliveries: { handler_name: string; attempt: number; status_code: number | null; response_excerpt: string | null; duration_ms: number; created_at: string }[];
  /** The aggregate's other events, newest first. */
  related: { id: string; event_type: string; status: Status; created_at: string }[];
  timings: { created_at: string; first_claimed_at: string | null; processed_at: string | null; wait_ms: number | null; total_ms: number | null };
}

export interface Counts {
  completed: number;
  failed: number;
  dead: number;
  in_flight: number;
}

export interface Stats {
  window: string;
  bucket_seconds: number;
  success_rate: (Counts & { event_type: string; total: number; rate: number | null })[];
  throughput: (Counts & { bucket: string })[];
  retry_queue: { failed: number; pending: number; processing: number; dead: number; next: EventRow[] };
  dead_letters: { event_type: string; error: string | null; count: number; last_at: string | null }[];
  handlers: { handler_name: string; runs: number; failures: number; p50_ms: number; p95_ms: number }[];
}

export interface ActionResult {
  action_id: string;
  kind: string;
  changed: boolean;
  duplicate: boolean;
  status?: Status;
  redriven?: number;
  remaining?: number;
  will_run?: string[];
}

export interface FailureGroup {
  fingerprint: string | null;
  event_types: string[];
  failed: number;
  dead: number;
  first_at: string;
  last_at: string;
  sample_error: string | null;
  sample_event_id: string;
}
export interface Failures { groups: FailureGroup[] }

export type BulkKind = "retry" | "redrive" | "discard";
export interface BulkPreview { kind: BulkKind; count: number; capped: boolean; statuses: Status[]; batch?: number }
export interface BulkResult { action_id: string; changed: boolean; duplicate: boolean; moved: number; unchanged: number; skipped: number; next_cursor: string | null }

export interface RouteRow {
  event_pattern: string;
  handler_name: string;
  target_kind: "local" | "function" | "url";
  target: string | null;
  managed_by: string | null;
  is_active: boolean;
  paused_at: string | null;
  retired_at: string | null;
  runs: number;
  failures: number;
  deferred: number;
  p50_ms: number | null;
  p95_ms: number | null;
  last_error: string | null;
  last_error_at: string | null;
}

export type AlertKind = "dead_letters" | "lag" | "failure_rate" | "endpoint_failing";
/** A rule with its state, as GET /alerts lists them (src/bus/functions/monitor/alerts.ts). */
export interface AlertRule {
  id: string;
  name: string;
  kind: AlertKind;
  tenant_id: string | null;
  event_type: string | null;
  handler_name: string | null;
  threshold: number;
  window_minutes: number;
  repeat_minutes: number;
  is_active: boolean;
  firing: boolean;
  value: number | null;
  since: string | null;
  notified_at: string | null;
}
export interface AlertNotice {
  id: string;
  rule_id: string;
  tenant_id: string | null;
  kind: "firing" | "repeat" | "resolved" | "disabled";
  value: number | null;
  message: string;
  created_at: string;
}
export interface Alerts { rules: AlertRule[]; notices: AlertNotice[] }
