/** Shared handler timeouts: one timer per cohort of runs, never firing early. */
import { describe, expect, it } from "vitest";
import { joinDeadline } from "../../src/bus/deadlines.ts";

/** A member whose expiry is recorded, with when it happened. */
function member() {
  const seen = { expiredAt: undefined as number | undefined };
  return { seen, onExpire: () => (seen.expiredAt = performance.now()) };
}
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("deadlines", () => {
  it("calls the members still in when the time is up, no earlier than the timeout, and not those that left", async () => {
    const started = performance.now();
    const [a, b, other] = [member(), member(), member()];
    joinDeadline(80, a.onExpire).leave(a.onExpire); // a's run finished at once
    joinDeadline(80, b.onExpire);
    const otherDeadline = joinDeadline(120, other.onExpire);
    await wait(100);
    expect(a.seen.expiredAt).toBeUndefined();
    expect(b.seen.expiredAt! - started).toBeGreaterThanOrEqual(79);
    expect(other.seen.expiredAt).toBeUndefined();
    otherDeadline.leave(other.onExpire);
    await wait(60);
    expect(other.seen.expiredAt).toBeUndefined();
  });

  it("never fires once every member has left, and a later turn's members wait their own full timeout", async () => {
    const first = member();
    const later = member();
    const firstDeadline = joinDeadline(50, first.onExpire);
    await wait(5);
    const laterJoinedAt = performance.now();
    joinDeadline(50, later.onExpire);
    firstDeadline.leave(first.onExpire);
    await wait(100);
    expect(first.seen.expiredAt).toBeUndefined();
    expect(later.seen.expiredAt! - laterJoinedAt).toBeGreaterThanOrEqual(49);
  });
});
