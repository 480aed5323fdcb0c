/**
 * Names a handler and says what it reacts to, in one place:
 * `defineHandler("fintech.create_escrow", async (event, ctx) => {...}, { on: ["order.created"] })`,
 * and, when it must wait for other handlers of the same event, `after: ["commerce.decrement_stock"]`.
 * The names and patterns are checked here, at definition, with the rules event_subscriptions
 * applies, so a typo fails at start rather than at the first sync.
 */
import type { Handler, HandlerContext, HandlerFn } from "./types.ts";

const HANDLER_NAME = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;
/** `order.created`, `order.*` or `*`: event_subscriptions' check on event_pattern. */
const EVENT_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/;

export interface HandlerOptions {
  timeoutMs?: number;
  /** The event patterns it is routed from (Handler.on). */
  on?: readonly string[];
  /** Other handlers of the same event it runs after (Handler.after, src/bus/steps.ts). */
  after?: readonly string[];
  /** The rate limit it takes a token of before each run (Handler.rateLimit). */
  rateLimit?: string;
}

export function defineHandler<P = Record<string, unknown>>(name: string, run: HandlerFn<P>, options: HandlerOptions = {}): Handler {
  if (!HANDLER_NAME.test(name)) throw new Error(`handler name ${name} must look like engine.handler`);
  const bad = options.on?.find((pattern) => !EVENT_PATTERN.test(pattern));
  if (bad !== undefined) throw new Error(`${name}: event pattern ${bad} must look like order.created, order.* or *`);
  if (options.on?.length === 0) throw new Error(`${name}: on lists no event pattern; leave it out for a handler routed by data`);
  const notAName = options.after?.find((prerequisite) => !HANDLER_NAME.test(prerequisite));
  if (notAName !== undefined) throw new Error(`${name}: after names ${notAName}, which is not a handler name (engine.handler)`);
  if (options.after?.includes(name)) throw new Error(`${name}: a handler cannot run after itself`);
  return { name, run: run as HandlerFn, ...options };
}

/**
 * A run's context for one of the several side effects it makes, each deduplicated on a key of
 * its own (`<the run's key>:<part>`, stable across retries as the run's is): the same database,
 * name and timeout signal. (The run's context is a class instance: spreading it would lose
 * its `signal`.)
 */
export function contextForPart(ctx: HandlerContext, part: string): HandlerContext {
  return { sql: ctx.sql, handlerName: ctx.handlerName, idempotencyKey: `${ctx.idempotencyKey}:${part}`, get signal() { return ctx.signal; } };
}
