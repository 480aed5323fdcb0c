/**
 * The handlers of the dispatcher processes that the fault tests start and kill: the real
 * engines, plus `fault.exit`, a handler that takes its whole process down with it.
 */
import { defineHandler } from "../../../src/bus/define-handler.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";

const exitProcess = defineHandler("fault.exit", async () => {
  process.exit(3);
});

export const handlers = [...engineHandlers(), exitProcess];
