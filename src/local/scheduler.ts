/**
 * The local stand-in for pg_cron: runs a job every interval, never two at once
 * (a slow run makes the next one wait for the following tick, as a cron job should).
 */
export interface Scheduled {
  stop(): Promise<void>;
}

export function every(intervalMs: number, job: () => Promise<unknown>, onError: (error: unknown) => void): Scheduled {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = job().catch(onError).finally(() => (running = undefined));
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
