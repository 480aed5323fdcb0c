/**
 * A postgres.js pool whose every awaited query is answered in bounded time, whatever the
 * database does. The server bounds what it runs (statement_timeout), but not what it never
 * receives: a query queued in the pool behind connections that are retrying, or sent on a
 * connection whose peer went silent (a host gone, a partition: no RST, so TCP waits for
 * many minutes). One sweep, every SWEEP_MS while anything is pending, gives up on
 *
 * - a query not yet written to a connection after `queueMs`: the caller gets
 *   DatabaseUnresponsiveError, and the query is turned into a no-op, so that if a
 *   connection does take it later nothing the caller gave up on is written. (postgres.js's
 *   own cancel() would leave a connection that was opening for it stuck for good.)
 * - every query sent on a connection that has answered nothing for `answerMs` (the
 *   statement timeout plus a grace): the server would have answered, if only with its
 *   statement timeout. The connection stays the pool's; it recovers or fails by itself.
 * - a transaction that has not started within the longer of the two, or not finished
 *   within answerMs of its callback's end (a COMMIT or ROLLBACK on a silent connection).
 *
 * The caller's error carries SQLSTATE 08006, which toHttpError answers 503 with retry-after.
 * This leans on postgres.js internals (Query.state is set when a query is written; its
 * strings and args are read only then), pinned by tests/faults/outage.test.ts.
 */
import type { Sql } from "./types.ts";

export interface WaitBounds {
  /** How long an awaited query may wait for a connection before it is written. */
  queueMs: number;
  /** How long a connection with work may stay silent before its queries are given up. */
  answerMs: number;
}

/** The database did not answer in time; SQLSTATE connection_failure, so callers answer 503. */
export class DatabaseUnresponsiveError extends Error {
  override name = "DatabaseUnresponsiveError";
  readonly code = "08006";
}

const SWEEP_MS = 200;
const NO_OP = Object.assign(["select where false"], { raw: ["select where false"] });

/** The parts of a postgres.js Query this module uses. */
interface Query extends Promise<unknown> {
  state: object | null;
  tagged: boolean;
  strings: readonly string[];
  args: unknown[];
  reject(error: unknown): void;
}
interface Transaction {
  phase: "waiting" | "running" | "finishing";
  since: number;
  abandon(): void;
}
interface Connection { key: object; outstanding: number; lastHeard: number }

class Sweeper {
  /** Awaited, not yet written: since when, and how long it may wait. */
  readonly #queued = new Map<Query, { since: number; limit: number }>();
  readonly #sent = new Map<Query, Connection>();
  readonly #connections = new Map<object, Connection>();
  readonly #transactions = new Set<Transaction>();
  /** Rejected here: their settling is no sign of life from their connection. */
  readonly #givenUp = new WeakSet<Query>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly bounds: WaitBounds) {}

  /** `queued`: false for a query of a transaction, which waits its turn behind the transaction's own statements. */
  watch(query: Query, queued: boolean): void {
    if (this.#queued.has(query) || this.#sent.has(query)) return;
    this.#queued.set(query, { since: performance.now(), limit: queued ? this.bounds.queueMs : Infinity });
    const settled = () => this.#settled(query);
    Promise.prototype.then.call(query, settled, settled);
    this.#wake();
  }

  transaction(t: Transaction): () => void {
    this.#transactions.add(t);
    this.#wake();
    return () => this.#transactions.delete(t);
  }

  #settled(query: Query): void {
    this.#queued.delete(query);
    const connection = this.#sent.get(query);
    if (!connection || !this.#sent.delete(query)) return;
    if (!this.#givenUp.has(query)) connection.lastHeard = performance.now();
    if (--connection.outstanding === 0) this.#connections.delete(connection.key);
  }

  #wake(): void {
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
  }

  #sweep(): void {
    const now = performance.now();
    const { queueMs, answerMs } = this.bounds;
    for (const [query, { since, limit }] of this.#queued) {
      if (query.state) {
        this.#queued.delete(query);
        let connection = this.#connections.get(query.state);
        if (!connection) this.#connections.set(query.state, connection = { key: query.state, outstanding: 0, lastHeard: now });
        connection.outstanding++;
        this.#sent.set(query, connection);
      } else if (now - since > limit) {
        this.#queued.delete(query);
        neutralize(query);
        query.reject(new DatabaseUnresponsiveError(`no database connection within ${queueMs} ms`));
      }
    }
    for (const [query, connection] of this.#sent) {
      if (now - connection.lastHeard > answerMs) {
        this.#givenUp.add(query);
        query.reject(new DatabaseUnresponsiveError(`the database connection has answered nothing for ${answerMs} ms`));
      }
    }
    for (const t of this.#transactions) {
      // Its BEGIN waits as a query does: queued, or sent on a connection that may be silent.
      const limit = t.phase === "waiting" ? Math.max(queueMs, answerMs) : t.phase === "finishing" ? answerMs : Infinity;
      if (now - t.since > limit) t.abandon();
    }
    if (this.#queued.size + this.#sent.size + this.#transactions.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

/** The query, if a connection ever takes it, does nothing: it is built from these only when written. */
function neutralize(query: Query): void {
  query.strings = NO_OP;
  query.args = [];
}

function isQuery(value: unknown): value is Query {
  return value instanceof Promise && "state" in value && "strings" in value && typeof (value as { cancel?: unknown }).cancel === "function";
}

/** The pool (or a transaction's sql), with every query it hands out bounded as described above. */
export function boundWaits<T extends Sql>(sql: T, bounds: WaitBounds): T {
  return bind(sql, new Sweeper(bounds), true);
}

function bind<T extends object>(sql: T, sweeper: Sweeper, pooled: boolean): T {
  const track = (result: unknown) => {
    if (!isQuery(result)) return result;
    // Watched from its first then(): a fragment nested in another query is never awaited itself.
    const then = result.then;
    result.then = function (this: Query, ...args: Parameters<Promise<unknown>["then"]>) {
      sweeper.watch(result, pooled);
      return then.apply(result, args);
    } as Query["then"];
    return result;
  };
  return new Proxy(sql, {
    apply: (target, self, args) => track(Reflect.apply(target as (...a: unknown[]) => unknown, self, args)),
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      if (key === "unsafe") return (...args: unknown[]) => track(value.apply(target, args));
      if (key === "begin" || key === "savepoint") return (...args: unknown[]) => transaction(value.bind(target), args, sweeper);
      return value;
    },
  });
}

/** begin / savepoint, with the callback given a bound sql and the transaction's own waits bounded. */
function transaction(open: (...args: unknown[]) => Promise<unknown>, args: unknown[], sweeper: Sweeper): Promise<unknown> {
  const callback = args.pop() as (tx: object) => unknown;
  return new Promise((resolve, reject) => {
    let gaveUp = false;
    const t: Transaction = {
      phase: "waiting",
      since: performance.now(),
      abandon: () => {
        gaveUp = true;
        reject(new DatabaseUnresponsiveError(`the transaction got no answer from the database in time (${t.phase})`));
      },
    };
    const forget = sweeper.transaction(t);
    const run = async (tx: object) => {
      // Rolled back: its caller has already been told it failed.
      if (gaveUp) throw new DatabaseUnresponsiveError("the transaction started after its caller gave up");
      t.phase = "running";
      try {
        return await callback(bind(tx, sweeper, false));
      } finally {
        t.phase = "finishing";
        t.since = performance.now();
      }
    };
    open(...args, run).then(resolve, reject).finally(forget);
  });
}
