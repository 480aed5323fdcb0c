/**
 * A transaction that lost a deadlock or a serialization conflict was rolled back whole, so
 * the caller may simply ask again: the HTTP answer is 503 with retry-after, never a 500.
 */
import { describe, expect, it } from "vitest";
import { PG, toHttpError } from "../../src/bus/errors.ts";

describe("a request that collided with another in the database", () => {
  for (const [what, code] of [["deadlock detected", PG.deadlockDetected], ["could not serialize access", PG.serializationFailure]] as const) {
    it(`answers ${code} (${what}) with 503 and retry-after, leaking no SQL text`, () => {
      const answer = toHttpError(Object.assign(new Error(what), { code, detail: "Process 123 waits for ShareLock on transaction 456" }));
      expect(answer.status).toBe(503);
      expect(answer.headers["retry-after"]).toBe("1");
      expect(JSON.stringify(answer.body())).not.toMatch(/Process|ShareLock|deadlock detected/);
    });
  }
});
