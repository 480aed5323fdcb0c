/** Shared handler timeouts: one timer per cohort of runs, never firing early. */
import { describe, expect, it } from "vitest";
import { joinDeadline, TIME_UP } from "../../src/bus/deadlines.ts";

const settled = async (promise: Promise<unknown>, ms: number) =>
  await Promise.race([promise.then(() => "resolved", (e) => (e === TIME_UP ? "time up" : "other")), new Promise((r) => setTimeout(() => r("pending"), ms))]);

describe("deadlines", () => {
  it("gives runs of one turn with one timeout a single deadline, which fires no earlier than the timeout", async () => {
    const started = performance.now();
    const a = joinDeadline(80);
    const b = joinDeadline(80);
    const other = joinDeadline(120);
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    a.leave(); // one run finished; the other still runs
    expect(await settled(a.expired, 300)).toBe("time up");
    expect(performance.now() - started).toBeGreaterThanOrEqual(79);
    other.leave();
    b.leave();
  });

  it("never fires once every member has settled, and a later turn gets a new deadline", async () => {
    const first = joinDeadline(50);
    await new Promise((r) => setTimeout(r, 5));
    const later = joinDeadline(50);
    expect(later).not.toBe(first);
    first.leave();
    later.leave();
    expect(await settled(first.expired, 120)).toBe("pending");
    expect(await settled(later.expired, 10)).toBe("pending");
  });
});
