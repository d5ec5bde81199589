import { afterEach, describe, expect, it, vi } from "vitest";
import { Requests } from "./requests.js";

afterEach(() => vi.restoreAllMocks());

/** Requests recording what they send. */
function recorder() {
  const sent = [];
  return { sent, requests: new Requests((m) => sent.push(m)) };
}

describe("Requests", () => {
  it("sends window requests with the query and accepts only current replies", () => {
    const { sent, requests } = recorder();
    requests.window(0, 100, true, { sort: [], filter: null });
    requests.window(100, 100, false, { sort: [], filter: null });
    expect(sent.map((m) => [m.type, m.offset, m.limit])).toEqual([["window", 0, 100], ["window", 100, 100]]);
    expect(requests.isPending(100)).toBe(true);
    requests.newGeneration(); // the query changed: the background request is forgotten
    expect(requests.isPending(100)).toBe(false);
    expect(requests.settle(sent[0].request)).toBe(false); // the user's, but of the old query
    expect(requests.settle(12345)).toBe(false); // another view's
    requests.window(0, 100, true, { sort: [["a", "asc"]], filter: "x > 1" });
    expect(sent[2]).toMatchObject({ sort: [["a", "asc"]], filter: "x > 1" });
    expect(requests.settle(sent[2].request)).toBe(true);
    expect(requests.settle(sent[2].request)).toBe(false); // answered once
  });

  it("resolves an asked cell or image with its reply or error", async () => {
    const { sent, requests } = recorder();
    const cell = requests.ask({ type: "cell", row_id: "r1", column: "prompt" });
    const image = requests.ask({ type: "image", row_id: "r1", column: "img" });
    expect(requests.resolve({ type: "rows", request: sent[0].request }, [])).toBe(false);
    expect(requests.resolve({ type: "cell", request: sent[0].request, column: "prompt" }, [])).toBe(true);
    expect(requests.resolve({ type: "error", request: sent[1].request, message: "no" }, [])).toBe(true);
    expect((await cell).msg.column).toBe("prompt");
    expect((await image).msg.message).toBe("no");
    expect(requests.resolve({ type: "cell", request: sent[0].request }, [])).toBe(false);
  });

  it("is busy once someone has waited for a while", () => {
    const { requests } = recorder();
    const now = vi.spyOn(performance, "now").mockReturnValue(1000);
    requests.window(0, 100, false, { sort: [], filter: null });
    now.mockReturnValue(5000);
    expect(requests.busy()).toBe(false); // nobody waits for a background refresh
    requests.window(100, 100, true, { sort: [], filter: null });
    expect(requests.busy()).toBe(false);
    now.mockReturnValue(5700);
    expect(requests.busy()).toBe(true);
  });
});
