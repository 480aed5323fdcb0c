/** Feyxa Engine's public surface: what application code and handler authors import. */
export { Bus, type BusOptions } from "./core/bus.ts";
export { Dispatcher, type DispatcherOptions } from "./core/dispatcher.ts";
export { defineHandler } from "./core/define-handler.ts";
export { HttpError, NonRetriableError, RetryAfterError } from "./core/errors.ts";
export { createFunctions } from "./functions/index.ts";
export { createGateway } from "./functions/gateway.ts";
export type * from "./core/types.ts";
