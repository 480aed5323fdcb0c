/** How results are grouped into complete_attempts calls (the writer here only records what it is given). */
import { describe, expect, it } from "vitest";
import { CompletionBatcher, type Moved } from "../../src/bus/completion-batcher.ts";
import type { AttemptResult } from "../../src/bus/types.ts";

const result = (n: number): AttemptResult => ({ event_id: `e${n}`, attempt: 1, handlers: [] });

function recordingBatcher() {
  const writes: string[][] = [];
  const pending: (() => void)[] = [];
  const batcher = new CompletionBatcher((results) => {
    writes.push(results.map((r) => r.event_id));
    return new Promise<Moved>((resolve) => pending.push(() => resolve(new Map())));
  });
  const finishOne = async () => {
    pending.shift()?.();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { batcher, writes, finishOne };
}

describe("CompletionBatcher", () => {
  it("writes at once when idle, and gathers what finishes while a write is on its way", async () => {
    const { batcher, writes, finishOne } = recordingBatcher();
    batcher.enoughForAnother = 3;
    const first = batcher.record([result(1)]);
    batcher.record([result(2)]);
    batcher.record([result(3)]);
    expect(writes).toEqual([["e1"]]); // 2 waiting: not worth a second write yet
    await finishOne();
    await first;
    expect(writes).toEqual([["e1"], ["e2", "e3"]]);
  });

  it("sends a whole batch's worth beside the write on its way, never more than two at once", async () => {
    const { batcher, writes, finishOne } = recordingBatcher();
    batcher.enoughForAnother = 2;
    batcher.record([result(1)]);
    batcher.record([result(2), result(3)]);
    batcher.record([result(4), result(5)]);
    expect(writes).toEqual([["e1"], ["e2", "e3"]]);
    await finishOne();
    expect(writes).toEqual([["e1"], ["e2", "e3"], ["e4", "e5"]]);
  });
});
