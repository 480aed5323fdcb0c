import { NonRetriableError } from "../../../bus/errors.ts";
import { onEvent } from "../define.ts";

/** payout.requested: pay it from the store's released balance, or refuse it for overdraft (not retriable). */
export const processPayout = onEvent("fintech.process_payout", ["payout.requested"], async (event, { sql }) => {
  const [outcome] = await sql<{ status: string; reason: string | null }[]>`select * from process_payout(${event.aggregateId}::uuid)`;
  if (outcome.status === "refused") throw new NonRetriableError(`payout refused: ${outcome.reason}`);
});
