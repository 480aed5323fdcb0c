/**
 * `npm run dispatcher` parses its settings at start (src/local/config.ts): a bad value stops
 * it, naming the variable and its range, before it connects anywhere; a variable set for it
 * that only npm start or the Edge Functions read is named in a warning line, not ignored.
 */
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";
import { startDispatcher } from "../faults/support/processes.ts";

const { url: databaseUrl } = await useDatabase();

function printedBy(dispatcher: ReturnType<typeof startDispatcher>): () => string {
  let printed = "";
  dispatcher.child.stdout!.on("data", (d) => (printed += d));
  return () => printed;
}

describe("npm run dispatcher's settings", () => {
  it("refuses a bad value at start, naming it and its range", async () => {
    const dispatcher = startDispatcher(databaseUrl, { FEYXA_CONCURRENCY: "0" });
    const printed = printedBy(dispatcher);
    await expect(dispatcher.ready).rejects.toThrow(/exited/);
    expect(await dispatcher.exited).toBe(1);
    expect(printed()).toContain("FEYXA_CONCURRENCY must be a whole number from 1 to 64 (got \\\"0\\\")");
  });

  it("names a variable set for it that it does not read", async () => {
    const dispatcher = startDispatcher(databaseUrl, { FEYXA_GATEWAY_PORT: "54999", FEYXA_DRAIN_MAX_EVENTS: "10" });
    const printed = printedBy(dispatcher);
    await dispatcher.ready;
    const ignored = printed().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === "setting ignored");
    expect(ignored).toEqual(expect.arrayContaining([
      expect.objectContaining({ level: "warn", setting: "FEYXA_GATEWAY_PORT", reason: "applies to npm start, not to npm run dispatcher" }),
      expect.objectContaining({ level: "warn", setting: "FEYXA_DRAIN_MAX_EVENTS", reason: "applies to npm start, Edge Functions, not to npm run dispatcher" }),
    ]));
    dispatcher.child.kill("SIGTERM");
    expect(await dispatcher.exited).toBe(0);
  });
});
