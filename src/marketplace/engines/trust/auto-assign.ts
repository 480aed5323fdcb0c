import { onEvent } from "../define.ts";

/** ticket.created: give the ticket to the least-loaded active agent. No agent on duty: retried later. */
export const autoAssign = onEvent("trust.auto_assign", ["ticket.created"], async (event, { sql }) => {
  const [{ agent }] = await sql<{ agent: string | null }[]>`select auto_assign_ticket(${event.aggregateId}::uuid) as agent`;
  if (!agent) throw new Error("no active support agent to assign the ticket to");
});
