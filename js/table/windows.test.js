import { describe, expect, it } from "vitest";
import { bodyHeight, fetchRange, isAtBottom, MAX_SCROLL_PX, visibleRange, WindowCache } from "./windows.js";

const rowHeight = 30;
const viewportHeight = 300; // 10 rows

describe("visibleRange", () => {
  it("maps scrollTop to rows one to one for small tables", () => {
    expect(visibleRange({ scrollTop: 0, viewportHeight, rowHeight, total: 1000 })).toEqual({ first: 0, count: 11, top: 0 });
    expect(visibleRange({ scrollTop: 3015, viewportHeight, rowHeight, total: 1000 })).toEqual({ first: 100, count: 11, top: 3000 });
  });
  it("never runs past the last row", () => {
    const r = visibleRange({ scrollTop: 1e9, viewportHeight, rowHeight, total: 1000 });
    expect(r.first).toBe(990);
    expect(r.count).toBe(10);
  });
  it("handles empty and tiny tables", () => {
    expect(visibleRange({ scrollTop: 0, viewportHeight, rowHeight, total: 0 }).count).toBe(0);
    expect(visibleRange({ scrollTop: 0, viewportHeight, rowHeight, total: 3 })).toEqual({ first: 0, count: 3, top: 0 });
  });
  it("scales huge tables into the browser's height limit and still reaches both ends", () => {
    const total = 50_000_000;
    expect(bodyHeight(total, rowHeight)).toBe(MAX_SCROLL_PX);
    const maxScroll = MAX_SCROLL_PX - viewportHeight;
    const end = visibleRange({ scrollTop: maxScroll, viewportHeight, rowHeight, total });
    expect(end.first + end.count).toBeGreaterThanOrEqual(total);
    const middle = visibleRange({ scrollTop: maxScroll / 2, viewportHeight, rowHeight, total });
    expect(Math.abs(middle.first - total / 2)).toBeLessThan(10);
    // rows are drawn inside the visible band of the scroll area
    expect(middle.top).toBeLessThanOrEqual(maxScroll / 2);
    expect(middle.top).toBeGreaterThan(maxScroll / 2 - rowHeight);
  });
});

describe("isAtBottom", () => {
  it("is true within half a row of the end", () => {
    const total = 100;
    const maxScroll = total * rowHeight - viewportHeight;
    expect(isAtBottom({ scrollTop: maxScroll, viewportHeight, rowHeight, total })).toBe(true);
    expect(isAtBottom({ scrollTop: maxScroll - 10, viewportHeight, rowHeight, total })).toBe(true);
    expect(isAtBottom({ scrollTop: maxScroll - 40, viewportHeight, rowHeight, total })).toBe(false);
  });
  it("is true when every row fits", () => {
    expect(isAtBottom({ scrollTop: 0, viewportHeight, rowHeight, total: 3 })).toBe(true);
  });
});

describe("fetchRange", () => {
  it("covers the viewport with a margin, aligned to blocks", () => {
    expect(fetchRange(250, 11, 10_000, 100)).toEqual({ offset: 200, limit: 100 });
    expect(fetchRange(295, 11, 10_000, 100)).toEqual({ offset: 200, limit: 200 });
  });
  it("stays inside the table", () => {
    expect(fetchRange(0, 11, 5, 100)).toEqual({ offset: 0, limit: 5 });
    expect(fetchRange(9_995, 11, 10_000, 100)).toEqual({ offset: 9_900, limit: 100 });
  });
});

describe("WindowCache", () => {
  const rows = (/** @type {number} */ from, /** @type {number} */ n) =>
    Array.from({ length: n }, (_, i) => ({ _id: `r${from + i}` }));

  it("serves rows from the window holding them", () => {
    const cache = new WindowCache(2);
    cache.put({ offset: 100, rows: rows(100, 50), version: 1 });
    expect(cache.row(120)).toEqual({ _id: "r120" });
    expect(cache.row(99)).toBeUndefined();
    expect(cache.row(150)).toBeUndefined();
  });
  it("prefers the newest window where windows overlap", () => {
    const cache = new WindowCache(3);
    cache.put({ offset: 0, rows: rows(0, 10), version: 1 });
    cache.put({ offset: 5, rows: [{ _id: "new" }], version: 2 });
    expect(cache.row(5)).toEqual({ _id: "new" });
    expect(cache.row(6)).toEqual({ _id: "r6" });
  });
  it("evicts the least recent windows beyond capacity and covered windows", () => {
    const cache = new WindowCache(2);
    const a = { offset: 0, rows: rows(0, 10), version: 1 };
    const b = { offset: 100, rows: rows(100, 10), version: 1 };
    const c = { offset: 200, rows: rows(200, 10), version: 1 };
    cache.put(a);
    cache.put(b);
    expect(cache.put(c)).toEqual([a]);
    expect(cache.windows.length).toBe(2);
    const wide = { offset: 95, rows: rows(95, 30), version: 2 };
    expect(cache.put(wide)).toEqual([b]);
  });
  it("reports missing and stale rows", () => {
    const cache = new WindowCache(4);
    cache.put({ offset: 0, rows: rows(0, 10), version: 1 });
    expect(cache.coverage(0, 10, 1)).toEqual({ complete: true, fresh: true });
    expect(cache.coverage(0, 10, 2)).toEqual({ complete: true, fresh: false });
    expect(cache.coverage(5, 10, 1)).toEqual({ complete: false, fresh: false });
    expect(cache.clear().length).toBe(1);
    expect(cache.row(0)).toBeUndefined();
  });
});
