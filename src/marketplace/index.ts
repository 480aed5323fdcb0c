/**
 * The marketplace, an application on the bus: its handlers (the five engines), and the
 * HTTP functions it serves, the bus's own among them.
 */
export { engineHandlers, engineHandlersFromEnv } from "./engines/index.ts";
export { createFunctions } from "./functions/index.ts";
