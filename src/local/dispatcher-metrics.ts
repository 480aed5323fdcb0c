/**
 * `npm run dispatcher`'s own metrics, at GET /metrics on FEYXA_METRICS_PORT: the events it is
 * running and how long its claims take (feyxa_dispatcher_in_flight, feyxa_claim_duration_seconds),
 * in Prometheus' text format, for the server key only, as the metrics function answers.
 *
 * Only the process's own: the bus's metrics, read from the database, are the gateway's and the
 * metrics function's to serve. Scraped from every dispatcher they would be counted once per
 * process by any sum over instances.
 */
import { type Bus, HttpError, prometheusResponse } from "../bus/index.ts";
import { type FetchHandler, identifyCaller, requireMethod, requireServer, withErrors } from "../bus/functions/index.ts";

export function dispatcherMetrics(bus: Bus, secretKeys: string[]): FetchHandler {
  return withErrors(async (request) => {
    if (new URL(request.url).pathname !== "/metrics") throw new HttpError(404, "not_found", "only /metrics is served here");
    requireMethod(request, "GET");
    requireServer(await identifyCaller(request, { secretKeys }));
    return prometheusResponse(bus.processMetrics.families(bus.workerId, bus.inFlight.size));
  });
}
