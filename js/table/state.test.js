import { describe, expect, it } from "vitest";
import { sameQuery, ViewState } from "./state.js";

/** @type {import("./state.js").Query} */
const query = { sort: [["latency", "desc"]], filter: "status = 'error'" };

describe("sameQuery", () => {
  it("matches sort and filter exactly", () => {
    expect(sameQuery({ sort: [["latency", "desc"]], filter: "status = 'error'" }, query)).toBe(true);
    expect(sameQuery({ sort: [["latency", "asc"]], filter: "status = 'error'" }, query)).toBe(false);
    expect(sameQuery({ sort: [["latency", "desc"]], filter: "" }, query)).toBe(false);
  });
  it("never matches a tick without a query (counts only)", () => {
    expect(sameQuery(undefined, query)).toBe(false);
  });
});

describe("ViewState", () => {
  it("is loaded once rows arrive, with their counts", () => {
    const state = new ViewState(false);
    expect(state.loaded).toBe(false);
    state.onRows({ total: 10, matched: 4, version: 3 });
    expect(state).toMatchObject({ total: 10, matched: 4, version: 3, loaded: true });
    expect(state.extent()).toBe(4);
  });

  it("takes a tick's matched count only for its own query", () => {
    const state = new ViewState(false);
    state.onRows({ total: 10, matched: 4, version: 1 });
    expect(state.onTick({ total: 12, matched: 99, version: 2, query: { sort: [], filter: "" } }, query)).toBe(null);
    expect(state).toMatchObject({ total: 12, matched: 4, version: 2 });
    expect(state.onTick({ total: 13, matched: 5, version: 3, offset: 4, query }, query)).toBe(4);
    expect(state).toMatchObject({ total: 13, matched: 5, version: 3 });
  });

  it("never steps back to an older tick's counts", () => {
    const state = new ViewState(false);
    state.onRows({ total: 20, matched: 20, version: 5 });
    state.onTick({ total: 15, matched: 15, version: 4, query }, query);
    expect(state).toMatchObject({ total: 20, matched: 20, version: 5 });
  });

  it("lays out rows up to the newest tail rows while following", () => {
    const state = new ViewState(true);
    state.onRows({ total: 100, matched: 100, version: 1 });
    expect(state.extent()).toBe(100);
    state.onTick({ total: 150, matched: 150, version: 2, offset: 100, query }, query);
    state.onTail(120); // counts ran ahead of the rows pushed
    expect(state.extent()).toBe(120);
    state.onTail(110); // an older push never shrinks the tail
    expect(state.extent()).toBe(120);
  });

  it("counts rows that arrived since the user left the tail", () => {
    const state = new ViewState(true);
    state.onRows({ total: 100, matched: 100, version: 1 });
    expect(state.onScroll(false)).toBe(true);
    expect(state.following).toBe(false);
    state.onTick({ total: 130, matched: 130, version: 2, query }, query);
    expect(state.fresh()).toBe(30);
    expect(state.onScroll(true)).toBe(true);
    expect(state.fresh()).toBe(0);
    expect(state.onScroll(true)).toBe(false); // already following
  });

  it("ignores scrolling before the first rows arrive", () => {
    const state = new ViewState(true);
    expect(state.onScroll(false)).toBe(false);
    expect(state.following).toBe(true);
  });

  it("forgets stale tail rows when it follows again", () => {
    const state = new ViewState(true);
    state.onRows({ total: 100, matched: 100, version: 1 });
    state.onTail(100);
    state.onScroll(false);
    state.onTick({ total: 200, matched: 200, version: 2, query }, query);
    state.onScroll(true);
    expect(state.tailEnd).toBe(0);
    expect(state.extent()).toBe(200);
  });

  it("starts a new query unloaded, at its first row, not following", () => {
    const state = new ViewState(true);
    state.onRows({ total: 100, matched: 100, version: 1 });
    state.onTail(100);
    state.onNewQuery();
    expect(state).toMatchObject({ loaded: false, following: false, tailEnd: 0 });
  });

  it("matches nothing after a failed query, and is loaded", () => {
    const state = new ViewState(false);
    state.onRows({ total: 100, matched: 40, version: 1 });
    state.onQueryError();
    expect(state).toMatchObject({ total: 100, matched: 0, loaded: true });
  });
});
