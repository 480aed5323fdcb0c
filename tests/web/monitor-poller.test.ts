/**
 * The monitor's poller alone (web/monitor/src/poller.ts), on fake timers: never two requests
 * of one poll in flight however slow the answer, the period doubling while answers are slow
 * or failing and back at the first quick one, nothing asked while the tab is hidden and at
 * once when it comes back, a reload during a request run right after it, stop aborting it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_MS, SLOW_MS, startPoller } from "../../web/monitor/src/poller.ts";

let clock = 0;
let hidden = false;
let visibilityListener: (() => void) | undefined;
const visibility = { hidden: () => hidden, onChange: (l: () => void) => ((visibilityListener = l), () => (visibilityListener = undefined)) };

/** A server whose answers take `latency` ms (fake time), counting requests and the most in flight at once. */
function server(latency: () => number, fail = () => false) {
  const s = { calls: 0, inFlight: 0, most: 0, aborted: 0 };
  const load = (signal: AbortSignal) => {
    s.calls++;
    s.inFlight++;
    s.most = Math.max(s.most, s.inFlight);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        s.inFlight--;
        fail() ? reject(new Error("503")) : resolve(s.calls);
      }, latency());
      signal.addEventListener("abort", () => (clearTimeout(timer), s.inFlight--, s.aborted++, reject(new Error("aborted"))));
    });
  };
  return { s, load };
}

beforeEach(() => {
  vi.useFakeTimers();
  clock = 0;
  hidden = false;
});
afterEach(() => vi.useRealTimers());
const advance = async (ms: number) => {
  for (let left = ms; left > 0; left -= 100) {
    clock += 100;
    await vi.advanceTimersByTimeAsync(100);
  }
};
const now = () => clock;

describe("the monitor's poller", () => {
  it("asks every period while answers are quick, one at a time", async () => {
    const { s, load } = server(() => 200);
    const data: number[] = [];
    const poller = startPoller({ load, intervalMs: 4000, live: true, onData: (d) => data.push(d), onError: () => {}, visibility, now });
    await advance(20_000);
    poller.stop();
    expect(s.calls).toBe(5); // at 0, 4.2, 8.4, 12.6, 16.8 s: the period runs from each answer
    expect(s.most).toBe(1);
    expect(data).toEqual([1, 2, 3, 4, 5]);
  });

  it("never starts a request while one is in flight, and backs off while answers are slow, up to the maximum", async () => {
    const { s, load } = server(() => 10_000);
    const periods: number[] = [];
    const poller = startPoller({ load, intervalMs: 4000, live: true, onData: () => {}, onError: () => {}, onPeriod: (p) => periods.push(p), visibility, now });
    await advance(120_000);
    poller.stop();
    expect(s.most).toBe(1);
    expect(periods).toEqual([8000, 16_000, 32_000, 60_000]); // each slow answer doubles it, MAX_MS holds it
    expect(MAX_MS).toBe(60_000);
    // 0–10 s, 18–28, 44–54, 86–96: four requests in two minutes, where a 4 s timer would have sent 30.
    expect(s.calls).toBe(4);
  });

  it("backs off while requests fail, and comes back to the period at the first quick answer", async () => {
    let failing = true;
    const { s, load } = server(() => 100, () => failing);
    const periods: number[] = [];
    const errors: string[] = [];
    const poller = startPoller({ load, intervalMs: 1000, live: true, onData: () => {}, onError: (e) => errors.push(e.message), onPeriod: (p) => periods.push(p), visibility, now });
    await advance(7_500); // fails at 0.1, 2.2 and 6.3 s
    expect(periods).toEqual([2000, 4000, 8000]);
    failing = false;
    await advance(8_000); // the next, at 14.4 s, answers quickly; one second later, the next
    poller.stop();
    expect(periods).toEqual([2000, 4000, 8000, 1000]);
    expect(errors).toEqual(["503", "503", "503"]);
    expect(s.calls).toBe(5);
  });

  it("counts an answer over SLOW_MS as slow, and one under it as quick", async () => {
    let latency = SLOW_MS + 100;
    const { load } = server(() => latency);
    const periods: number[] = [];
    const poller = startPoller({ load, intervalMs: 4000, live: true, onData: () => {}, onError: () => {}, onPeriod: (p) => periods.push(p), visibility, now });
    await advance(SLOW_MS + 200);
    latency = SLOW_MS - 200;
    await advance(8000 + SLOW_MS);
    poller.stop();
    expect(periods).toEqual([8000, 4000]);
  });

  it("asks nothing while the tab is hidden, and asks at once when it comes back", async () => {
    const { s, load } = server(() => 100);
    const poller = startPoller({ load, intervalMs: 4000, live: true, onData: () => {}, onError: () => {}, visibility, now });
    await advance(1000);
    expect(s.calls).toBe(1);
    hidden = true;
    visibilityListener?.();
    await advance(60_000);
    expect(s.calls).toBe(1); // the tick at 4.1 s found the tab hidden and parked
    hidden = false;
    visibilityListener?.();
    await advance(100);
    expect(s.calls).toBe(2);
    await advance(4100);
    poller.stop();
    expect(s.calls).toBe(3); // and the period goes on from there
  });

  it("runs a reload asked during a request right after it, not beside it", async () => {
    const { s, load } = server(() => 3000);
    const poller = startPoller({ load, intervalMs: 4000, live: true, onData: () => {}, onError: () => {}, visibility, now });
    await advance(1000);
    poller.reload();
    poller.reload();
    expect(s.inFlight).toBe(1);
    await advance(2100); // the first answers at 3 s; the reload starts then
    expect([s.calls, s.most]).toEqual([2, 1]);
    poller.stop();
  });

  it("stops: aborts the request in flight, drops its answer, asks nothing more", async () => {
    const { s, load } = server(() => 3000);
    const data: number[] = [];
    const errors: Error[] = [];
    const poller = startPoller({ load, intervalMs: 1000, live: true, onData: (d) => data.push(d), onError: (e) => errors.push(e), visibility, now });
    await advance(500);
    poller.stop();
    await advance(20_000);
    expect([s.calls, s.aborted, data.length, errors.length]).toEqual([1, 1, 0, 0]);
    expect(visibilityListener).toBeUndefined();
  });

  it("asks once when not live, and again on reload", async () => {
    const { s, load } = server(() => 100);
    const poller = startPoller({ load, intervalMs: 1000, live: false, onData: () => {}, onError: () => {}, visibility, now });
    await advance(10_000);
    expect(s.calls).toBe(1);
    poller.reload();
    await advance(10_000);
    poller.stop();
    expect(s.calls).toBe(2);
  });
});
