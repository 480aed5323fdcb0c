/**
 * The bus's periodic jobs, each with its one period: npm start's scheduler runs them on timers
 * (src/local/start.ts), pg_cron runs them on Supabase, under these job names, with the
 * schedule cronSchedule writes from the period (supabase/schemas/bus/cron.sql; the
 * PostgreSQL 15 tier checks each job's schedule against this list). An application's own
 * jobs are declared the same way (the marketplace's: src/marketplace/settings.ts).
 */
export interface Schedule {
  /** The pg_cron job's name. */
  readonly job: string;
  readonly everyMs: number;
  readonly does: string;
}

export const BUS_SCHEDULES = Object.freeze({
  retryFailedEvents: {
    job: "feyxa-retry-failed-events", everyMs: 30_000,
    does: "retry-failed-events: failed events whose retry time has come, events whose worker vanished (lease expired), pending events whose wake-up was lost",
  },
  evaluateAlerts: { job: "feyxa-evaluate-alerts", everyMs: 60_000, does: "feyxa.evaluate_alerts(): the alert rules" },
  purgeCompletedEvents: { job: "feyxa-purge-completed-events", everyMs: 10 * 60_000, does: "feyxa.purge_completed_events(10000): one batch of the retention purge" },
  foldStats: { job: "feyxa-fold-stats", everyMs: 60_000, does: "feyxa.fold_stats(): the log's newest rows folded into the monitor's rollups (its stats, the health verdict's trend)" },
  purgeIdempotencyKeys: {
    job: "feyxa-purge-idempotency-keys", everyMs: 10 * 60_000,
    does: "feyxa.purge_idempotency_keys(10000): one batch of the HTTP functions' idempotency keys first used over 24 hours ago",
  },
} satisfies Record<string, Schedule>);

/**
 * A period as pg_cron writes it: whole seconds under a minute as an interval ('30 seconds',
 * pg_cron 1.5+; Supabase runs 1.6), whole minutes that divide an hour and whole hours that
 * divide a day as cron lines ('* * * * *', '*\/10 * * * *', '0 *\/6 * * *'). Any other
 * period has no such line: an error naming it.
 */
export function cronSchedule(everyMs: number): string {
  const seconds = everyMs / 1000;
  if (Number.isInteger(seconds) && seconds >= 1 && seconds < 60) return `${seconds} seconds`;
  const minutes = seconds / 60;
  if (Number.isInteger(minutes) && minutes < 60 && 60 % minutes === 0) return minutes === 1 ? "* * * * *" : `*/${minutes} * * * *`;
  const hours = minutes / 60;
  if (Number.isInteger(hours) && hours < 24 && 24 % hours === 0) return hours === 1 ? "0 * * * *" : `0 */${hours} * * *`;
  if (hours === 24) return "0 0 * * *";
  throw new Error(`a period of ${everyMs} ms has no pg_cron schedule: whole seconds under a minute, minutes dividing an hour, hours dividing a day`);
}
