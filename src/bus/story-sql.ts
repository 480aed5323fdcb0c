/**
 * An event's story in the database: the SQL a handler runs through `ctx.sql` says which
 * event caused it, so that every event it emits, from TypeScript or from a trigger its writes
 * fire, records its causation and correlation (events_log.causation_id, correlation_id,
 * supabase/schemas/bus/events.sql). The columns take them from two settings local to the
 * emitting transaction, as trace_parent takes feyxa.traceparent:
 *
 *   feyxa.causation_id       the event whose handler runs
 *   feyxa.causation_handler  that handler
 *   feyxa.correlation_id     the first event of its story (its correlation, or itself for a root)
 *
 * storySql(pool, story) is the pool with every statement in such a transaction: a
 * transaction it begins sets both first; a single statement runs inside one begun for it,
 * the settings, the statement and the commit sent at once on one connection (one round
 * trip, as the statement alone). A statement used as a fragment of another is left alone,
 * and so is everything else of the pool (helpers such as json(), listen, reserve).
 * Made only when a handler first reads ctx.sql: a handler that never queries costs nothing.
 */
import { HttpError } from "./errors.ts";
import { withLocalSettings } from "./local-settings.ts";
import type { Queryable, Sql, TransactionSql } from "./types.ts";

export interface Story {
  /** The event whose handler runs. */
  causationId: string;
  /** That handler. */
  handlerName: string;
  /** Its story's first event. */
  correlationId: string;
}

/** Sets the story's two settings in a transaction (local to it). */
export const setStory = (tx: Queryable, story: Story) =>
  tx`select set_config('feyxa.causation_id', ${story.causationId}, true), set_config('feyxa.causation_handler', ${story.handlerName}, true),
            set_config('feyxa.correlation_id', ${story.correlationId}, true)`;

/** What postgres.js' Query carries that this needs: its text, its values, and how it is run. */
interface PendingStatement {
  tagged: boolean;
  strings: TemplateStringsArray | string;
  args: unknown[];
  options: Parameters<Sql["unsafe"]>[2];
  handler: (query: PendingStatement) => void;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const isStatement = (value: unknown): value is PendingStatement =>
  typeof value === "object" && value !== null && "handler" in value && "strings" in value && "resolve" in value;

/** The pool as a handler of `story` sees it. */
export function storySql(pool: Sql, story: Story): Sql {
  // A statement, when it is run (awaited), goes out with the settings before it and the
  // commit after it, pipelined on one reserved connection; until then it is the pool's own
  // Query, so that using it as a fragment of another statement works as before.
  const inStory = (statement: PendingStatement) => {
    statement.handler = (query) => {
      void pool.reserve().then(async (connection) => {
        try {
          const run = query.tagged
            ? connection(query.strings as TemplateStringsArray, ...(query.args as never[]))
            : connection.unsafe(query.strings as string, query.args as never[], query.options);
          const [, , rows] = await Promise.all([connection`begin`, setStory(connection, story), run, connection`commit`])
            .catch(async (error) => {
              await connection`rollback`.catch(() => {});
              throw error;
            });
          query.resolve(rows);
        } catch (error) {
          query.reject(error);
        } finally {
          connection.release();
        }
      }, (error) => query.reject(error));
    };
    return statement;
  };

  return new Proxy(pool, {
    apply(target, self, args) {
      const made: unknown = Reflect.apply(target, self, args);
      return isStatement(made) && made.tagged ? inStory(made) : made;
    },
    get(target, property) {
      if (property === "begin") {
        return (...args: unknown[]) => {
          const work = args.pop() as (tx: TransactionSql) => unknown;
          return (target.begin as (...a: unknown[]) => Promise<unknown>)(...args, async (tx: TransactionSql) => {
            await setStory(tx, story);
            return await work(tx);
          });
        };
      }
      if (property === "unsafe") {
        return (...args: Parameters<Sql["unsafe"]>) => inStory(target.unsafe(...args) as unknown as PendingStatement);
      }
      return Reflect.get(target, property);
    },
  }) as Sql;
}

/** The story an emit names for itself (an HTTP emit on another event's behalf), if any. */
export interface GivenStory {
  causation_id?: string | null;
  correlation_id?: string | null;
}

const given = (e: GivenStory) => e.causation_id != null || e.correlation_id != null;

/**
 * Runs an emit in the story its events name: in the caller's transaction, or one begun
 * for it, the two settings are set first, the correlation defaulting to the cause's story
 * (read from the log; the cause itself when it is not found). Events that name none: fn(sql).
 * A batch shares one story: its events name the same, or none.
 */
export async function inGivenStory<T>(sql: Queryable, events: GivenStory[], fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const named = events.filter(given);
  if (named.length === 0) return await fn(sql);
  const [first] = named;
  const differs = events.findIndex((e) => (e.causation_id ?? null) !== (first.causation_id ?? null) || (e.correlation_id ?? null) !== (first.correlation_id ?? null));
  if (differs >= 0) throw new HttpError(400, "invalid_request", `events.${differs}.causation_id: the events of one batch share their story`, `events.${differs}.causation_id`);
  const set = (tx: Queryable) => tx`
    select set_config('feyxa.causation_id', coalesce(${first.causation_id ?? null}::text, ''), true),
           set_config('feyxa.correlation_id', coalesce(${first.correlation_id ?? null}::text,
             (select coalesce(e.correlation_id, e.id)::text from feyxa.events_log e where e.id = ${first.causation_id ?? null}::uuid),
             ${first.causation_id ?? null}::text, ''), true)`;
  return await withLocalSettings(sql, set, fn);
}
